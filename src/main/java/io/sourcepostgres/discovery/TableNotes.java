package io.sourcepostgres.discovery;

import io.sourcepostgres.airbyte.StreamId;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * What a user must know about a stream before syncing it — why its changes would not be captured or its
 * rows not read — each note with the SQL that fixes it. They become the stream schema's description.
 */
final class TableNotes {
    /** Enough partition names to act on without flooding the description of a table with thousands. */
    private static final int MAX_NAMED_PARTITIONS = 20;

    private final TableCatalog catalog;
    private final boolean createPublication;

    TableNotes(TableCatalog catalog, boolean createPublication) {
        this.catalog = catalog;
        this.createPublication = createPublication;
    }

    /** The notes for {@code table}, in order of importance; empty when nothing stands in its way. */
    List<String> of(DiscoveredTable table) {
        List<String> notes = new ArrayList<>();
        String publication = StreamId.quoteIdentifier(catalog.publication().name());
        String qualified = table.id().quoted();
        if (table.isUnlogged()) {
            notes.add("Unlogged table: PostgreSQL writes no WAL for it, so its changes cannot be captured and only a "
                    + "backfill reads its rows. Run ALTER TABLE " + qualified + " SET LOGGED; to capture its changes"
                    + (catalog.publication().allTables() || !catalog.publication().exists() ? "."
                            : ", then ALTER PUBLICATION " + publication + " ADD TABLE " + qualified + ";"));
        } else if (!catalog.publication().exists()) {
            notes.add(createPublication
                    ? "Publication " + publication + " does not exist yet: read will create it FOR ALL TABLES, "
                            + "which captures this table's changes."
                    : "Publication " + publication + " does not exist and create_publication is off: this table's "
                            + "changes are not captured. Run CREATE PUBLICATION " + publication + " FOR ALL TABLES; "
                            + "(or FOR TABLE with the tables to capture).");
        } else if (!table.inPublication()) {
            notes.add(notInPublication(table, publication));
        }
        if (!table.selectable()) {
            String user = StreamId.quoteIdentifier(catalog.user());
            notes.add("User " + user + " cannot SELECT this table, so its rows cannot be backfilled. Run "
                    + (table.schemaUsage() ? ""
                            : "GRANT USAGE ON SCHEMA " + StreamId.quoteIdentifier(table.id().namespace()) + " TO " + user + "; ")
                    + "GRANT SELECT ON " + qualified + " TO " + user + ";");
        }
        if (table.primaryKey().isEmpty()) {
            notes.add("No primary key: captured as an append-only history (destination_sync_mode append), backfilled by "
                    + "physical location; " + switch (table.replicaIdentity()) {
                        case 'f' -> "updates carry the new row and deletes the old row (REPLICA IDENTITY FULL).";
                        case 'i' -> "updates carry the new row, deletes only the replica identity index's columns.";
                        default -> "only inserts are captured, and while the table is published PostgreSQL refuses its "
                                + "UPDATEs and DELETEs: run ALTER TABLE " + qualified + " REPLICA IDENTITY FULL;.";
                    } + " To upsert by key instead, set the configured stream's primary_key to columns with a unique "
                    + "index, or run ALTER TABLE " + qualified + " ADD PRIMARY KEY (...);");
        }
        List<String> clashes = table.columns().stream().map(ColumnInfo::name).filter(CdcFields.NAMES::contains)
                .map(StreamId::quoteIdentifier).toList();
        if (!clashes.isEmpty()) {
            notes.add(clashes.size() == 1
                    ? "Column " + clashes.get(0) + " shares its name with a CDC metadata field, which this schema "
                            + "describes instead; rename the column to capture it."
                    : "Columns " + String.join(", ", clashes) + " share their names with CDC metadata fields, which "
                            + "this schema describes instead; rename the columns to capture them.");
        }
        return notes;
    }

    private String notInPublication(DiscoveredTable table, String publication) {
        String qualified = table.id().quoted();
        String alter = "ALTER PUBLICATION " + publication + " ADD TABLE ";
        if (catalog.publication().allTables()) {
            return "Not in publication " + publication + " although it is FOR ALL TABLES: its changes are not captured.";
        }
        if (!table.isPartitioned()) {
            return "Not in publication " + publication + ": its changes are not captured. Run " + alter + qualified + ";";
        }
        List<Partition> missing = table.unpublishedPartitions();
        boolean some = missing.size() < table.partitions().stream().filter(Partition::leaf).count();
        String problem = some
                ? (missing.size() == 1
                        ? "Partition " + names(missing) + " of this table is not in publication " + publication
                                + ": its changes are not captured."
                        : "Partitions " + names(missing) + " of this table are not in publication " + publication
                                + ": their changes are not captured.")
                : "Not in publication " + publication + ": its changes are not captured.";
        if (catalog.serverMajorVersion() >= 13) {
            return problem + " Run " + alter + qualified + ";";
        }
        // PostgreSQL 12 cannot publish a partitioned table, only its partitions one by one.
        return missing.isEmpty()
                ? problem + " PostgreSQL 12 publishes partitions, not partitioned tables: add its partitions once "
                        + "they exist, with " + alter + "<partition>;"
                : problem + " PostgreSQL 12 publishes partitions, not partitioned tables: run " + alter
                        + names(missing) + ";";
    }

    private static String names(List<Partition> partitions) {
        String named = partitions.stream().limit(MAX_NAMED_PARTITIONS).map(p -> p.id().quoted())
                .collect(Collectors.joining(", "));
        int more = partitions.size() - MAX_NAMED_PARTITIONS;
        return more > 0 ? named + " (and " + more + " more)" : named;
    }
}
