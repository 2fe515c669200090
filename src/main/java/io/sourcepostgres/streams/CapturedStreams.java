package io.sourcepostgres.streams;

import io.sourcepostgres.airbyte.LogSink;
import io.sourcepostgres.airbyte.ConfiguredCatalog;
import io.sourcepostgres.airbyte.ConnectorException;
import io.sourcepostgres.airbyte.LogLevel;
import io.sourcepostgres.airbyte.StreamId;
import io.sourcepostgres.config.ConnectorConfig;
import io.sourcepostgres.discovery.DiscoveredTable;
import io.sourcepostgres.discovery.TableCatalog;
import io.sourcepostgres.pgoutput.PgOutputMessage;
import io.sourcepostgres.postgres.SqlFailures;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The configured streams resolved against the database: each exists, is published and readable; one whose
 * table has no primary key and whose catalog entry names none has an empty key and is captured as an
 * append-only history ({@code backfill.KeylessBackfills}). Also tells which stream a pgoutput relation belongs to — a partition's changes belong to its
 * partitioned root's stream.
 */
public final class CapturedStreams {
    /**
     * A stream and the key columns (in order) that identify its rows downstream.
     *
     * @param selectedColumns the columns the configured stream selected, or null for all of them
     */
    public record Target(StreamId stream, List<String> key, DiscoveredTable table, java.util.Set<String> selectedColumns) {

        public Target(StreamId stream, List<String> key, DiscoveredTable table) {
            this(stream, key, table, null);
        }

        /** Whether records of this stream carry {@code column}: key columns always, others when selected. */
        public boolean emits(String column) {
            return selectedColumns == null || selectedColumns.contains(column) || key.contains(column);
        }
    }

    private final Connection query;
    private final Map<StreamId, Target> byStream;
    private final TableCatalog catalog;
    private final Map<Long, Target> byRelationOid = new HashMap<>();
    private final java.util.Set<StreamId> replicated;

    private CapturedStreams(Connection query, Map<StreamId, Target> byStream, TableCatalog catalog,
            java.util.Set<StreamId> replicated) {
        this.query = query;
        this.replicated = replicated;
        this.byStream = byStream;
        this.catalog = catalog;
    }

    public static CapturedStreams resolve(Connection query, ConnectorConfig config, ConfiguredCatalog configured,
            LogSink out) {
        List<StreamId> ids = configured.streams().stream().map(ConfiguredCatalog.ConfiguredStream::id).toList();
        TableCatalog catalog = TableCatalog.read(query, config.publicationName(), ids);
        Map<StreamId, Target> targets = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        Map<Long, List<io.sourcepostgres.postgres.ReplicaIdentity>> identities = identities(query, configured, catalog);
        for (ConfiguredCatalog.ConfiguredStream s : configured.streams()) {
            DiscoveredTable table = catalog.table(s.id()).orElse(null);
            if (table == null) {
                problems.add("stream " + s.id() + " is not a table this user can see in database \""
                        + config.uri().database() + "\" (run discover to see the available streams)");
                continue;
            }
            List<String> key = s.primaryKey().isEmpty() ? table.primaryKey() : s.primaryKey();
            for (String column : key) {
                if (table.column(column).isEmpty()) {
                    problems.add("the primary_key of stream " + s.id() + " names column \"" + column
                            + "\", which the table does not have");
                }
            }
            List<io.sourcepostgres.discovery.Partition> unpublished = table.unpublishedPartitions();
            boolean somePublished = table.isPartitioned() && unpublished.size()
                    < table.partitions().stream().filter(io.sourcepostgres.discovery.Partition::leaf).count();
            if (!table.inPublication() && somePublished && s.syncMode() == ConfiguredCatalog.SyncMode.INCREMENTAL) {
                // The publication names some partitions but not the root: the stream would get only part of the rows'
                // changes while its backfill reads them all.
                out.log(LogLevel.WARN, "Partitioned table " + s.id() + " is only partly in publication \""
                        + config.publicationName() + "\": changes to its partitions "
                        + unpublished.stream().map(p -> p.id().toString()).toList() + " are not captured, while the "
                        + "backfill reads every partition. Fix: ALTER PUBLICATION \"" + config.publicationName()
                        + "\" ADD TABLE " + s.id().quoted() + "; (the root publishes every partition, present and future).");
            } else if (!table.inPublication() && s.syncMode() == ConfiguredCatalog.SyncMode.INCREMENTAL) {
                // Not fatal: it may be added while the capture runs, and its changes flow from then on.
                out.log(LogLevel.WARN, "Table " + s.id() + " is not in publication \"" + config.publicationName()
                        + "\": none of its changes are captured until it is. Fix: ALTER PUBLICATION \""
                        + config.publicationName() + "\" ADD TABLE " + s.id().quoted() + ";");
            }
            if (!table.selectable() && !(s.selectedColumns() != null && ColumnPrivileges.cover(query, table,
                    selectedAndKey(table, s.selectedColumns(), key)))) {
                problems.add("this user may not read table " + s.id() + ": GRANT SELECT ON " + s.id().quoted()
                        + " TO \"" + catalog.user() + "\";");
            }
            if (table.replicaIdentity() == 'n' || (table.replicaIdentity() == 'd' && table.primaryKey().isEmpty())) {
                out.log(LogLevel.WARN, "Table " + s.id() + " has no replica identity: PostgreSQL will refuse its "
                        + "UPDATEs and DELETEs while it is published, and none can be captured. Fix: ALTER TABLE "
                        + s.id().quoted() + " REPLICA IDENTITY FULL; (or add a primary key).");
            }
            if (s.syncMode() == ConfiguredCatalog.SyncMode.INCREMENTAL && !key.isEmpty()
                    && key.stream().allMatch(c -> table.column(c).isPresent())) {
                identityProblem(identities.getOrDefault(table.oid(), List.of()), key, !s.primaryKey().isEmpty())
                        .ifPresent(problems::add);
            }
            if (key.isEmpty() && s.syncMode() == ConfiguredCatalog.SyncMode.INCREMENTAL) {
                out.log(LogLevel.INFO, "Table " + s.id() + " has no primary key and the catalog names none: it is "
                        + "captured as an append-only history (use destination_sync_mode append). "
                        + switch (table.replicaIdentity()) {
                            case 'f' -> "Its updates carry the new row and its deletes the old row.";
                            case 'i' -> "Its updates carry the new row, its deletes the replica identity index's columns.";
                            default -> "Only its inserts can be captured; for updates and deletes run ALTER TABLE "
                                    + s.id().quoted() + " REPLICA IDENTITY FULL;";
                        });
            }
            List<String> generatedKey = GeneratedKeyColumns.of(table, key);
            if (!generatedKey.isEmpty() && s.syncMode() == ConfiguredCatalog.SyncMode.INCREMENTAL
                    && !publishesGeneratedColumns(query, config.publicationName())) {
                problems.add(GeneratedKeyColumns.problem(s.id(), key, generatedKey, config.publicationName(),
                        catalog.serverMajorVersion()));
            }
            targets.put(s.id(), new Target(s.id(), List.copyOf(key), table, s.selectedColumns()));
        }
        if (!problems.isEmpty()) {
            throw ConnectorException.config("The catalog cannot be captured: " + String.join("; ", problems) + ".");
        }
        java.util.Set<StreamId> replicated = new java.util.HashSet<>();
        for (ConfiguredCatalog.ConfiguredStream s : configured.streams()) {
            if (s.syncMode() == ConfiguredCatalog.SyncMode.INCREMENTAL) {
                replicated.add(s.id());
            }
        }
        return new CapturedStreams(query, targets, catalog, replicated);
    }

    /**
     * Why replication cannot identify the stream's rows by {@code key}: the key must lie within what PostgreSQL
     * logs of an updated or deleted row (its replica identity), unless that is every column (FULL).
     */
    private static java.util.Optional<String> identityProblem(List<io.sourcepostgres.postgres.ReplicaIdentity> identities,
            List<String> key, boolean fromCatalog) {
        for (io.sourcepostgres.postgres.ReplicaIdentity identity : identities) {
            java.util.Optional<io.sourcepostgres.postgres.Problem> problem = identity.scanKeyProblem(key, fromCatalog);
            if (problem.isPresent()) {
                return java.util.Optional.of(problem.get().message());
            }
        }
        return java.util.Optional.empty();
    }

    /**
     * The replica identities of the incremental streams' tables and their partitions, read for all of them with a
     * query per thousand tables rather than two per table.
     */
    private static Map<Long, List<io.sourcepostgres.postgres.ReplicaIdentity>> identities(Connection query,
            ConfiguredCatalog configured, TableCatalog catalog) {
        List<Long> oids = configured.streams().stream()
                .filter(s -> s.syncMode() == ConfiguredCatalog.SyncMode.INCREMENTAL)
                .map(s -> catalog.table(s.id())).flatMap(java.util.Optional::stream)
                .map(DiscoveredTable::oid).distinct().toList();
        try {
            return io.sourcepostgres.postgres.ReplicaIdentity.ofTablesAndPartitions(query, oids);
        } catch (SQLException e) {
            throw ConnectorException.transientError("Reading the replica identity of " + oids.size() + " tables failed: "
                    + e.getMessage() + ". Retry.", e);
        }
    }

    /** The table's columns a stream with column selection reads: the selected ones and the key. */
    private static List<String> selectedAndKey(DiscoveredTable table, java.util.Set<String> selected, List<String> key) {
        return table.columns().stream().map(io.sourcepostgres.discovery.ColumnInfo::name)
                .filter(c -> selected.contains(c) || key.contains(c)).toList();
    }

    private static boolean publishesGeneratedColumns(Connection query, String publication) {
        try {
            return io.sourcepostgres.postgres.Publications.publishesGeneratedColumns(query, publication);
        } catch (SQLException e) {
            throw ConnectorException.transientError("Reading the settings of publication \"" + publication
                    + "\" failed: " + e.getMessage(), e);
        }
    }

    public Map<StreamId, Target> targets() {
        return byStream;
    }

    /**
     * The stream a relation's changes belong to, or null when they are not captured (full-refresh streams
     * are re-read each run, never replicated).
     */
    public Target targetOf(PgOutputMessage.Relation relation) {
        Target t = anyTargetOf(relation);
        return t != null && replicated.contains(t.stream()) ? t : null;
    }

    private Target anyTargetOf(PgOutputMessage.Relation relation) {
        long oid = Integer.toUnsignedLong(relation.relationId());
        Target known = byRelationOid.get(oid);
        if (known != null) {
            return known;
        }
        Target found = catalog.tableOfRelation(oid).map(t -> byStream.get(t.id())).orElse(null);
        if (found == null) {
            found = byStream.get(new StreamId(relation.namespace(), relation.name()));
        }
        if (found == null) {
            found = rootOf(oid); // a partition created after the run started
        }
        if (found != null) {
            byRelationOid.put(oid, found);
        }
        return found;
    }

    private Target rootOf(long oid) {
        try (PreparedStatement ps = query.prepareStatement(
                "SELECT n.nspname, c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
                        + " WHERE c.oid = pg_catalog.pg_partition_root(?::oid)")) {
            ps.setLong(1, oid);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? byStream.get(new StreamId(rs.getString(1), rs.getString(2))) : null;
            }
        } catch (SQLException e) {
            throw SqlFailures.failure("Looking up the partition root of relation " + oid, e);
        }
    }
}
