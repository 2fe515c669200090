package io.sourcepostgres.capture;

import io.sourcepostgres.airbyte.AirbyteOutput;
import io.sourcepostgres.airbyte.ConfiguredCatalog;
import io.sourcepostgres.airbyte.ConnectorException;
import io.sourcepostgres.airbyte.LogLevel;
import io.sourcepostgres.airbyte.StreamId;
import io.sourcepostgres.config.ConnectorConfig;
import io.sourcepostgres.discovery.DiscoveredTable;
import io.sourcepostgres.discovery.TableCatalog;
import io.sourcepostgres.pgoutput.PgOutputMessage;
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
 * The configured streams resolved against the database: each exists, has a usable key, is published and
 * readable. Also tells which stream a pgoutput relation belongs to — a partition's changes belong to its
 * partitioned root's stream.
 */
public final class CapturedStreams {
    /** A stream and the key columns (in order) that identify its rows downstream. */
    public record Target(StreamId stream, List<String> key, DiscoveredTable table) {}

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
            AirbyteOutput out) {
        List<StreamId> ids = configured.streams().stream().map(ConfiguredCatalog.ConfiguredStream::id).toList();
        TableCatalog catalog = TableCatalog.read(query, config.publicationName(), ids);
        Map<StreamId, Target> targets = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
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
            if (key.isEmpty()) {
                problems.add("table " + s.id() + " has no primary key, so its rows cannot be identified: add one ("
                        + "ALTER TABLE " + s.id().quoted() + " ADD PRIMARY KEY (...);) or set the stream's primary_key "
                        + "in the catalog to columns that are unique");
            }
            if (!table.inPublication() && s.syncMode() == ConfiguredCatalog.SyncMode.INCREMENTAL) {
                // Not fatal: it may be added while the capture runs, and its changes flow from then on.
                out.log(LogLevel.WARN, "Table " + s.id() + " is not in publication \"" + config.publicationName()
                        + "\": none of its changes are captured until it is. Fix: ALTER PUBLICATION \""
                        + config.publicationName() + "\" ADD TABLE " + s.id().quoted() + ";");
            }
            if (!table.selectable()) {
                problems.add("this user may not read table " + s.id() + ": GRANT SELECT ON " + s.id().quoted()
                        + " TO \"" + catalog.user() + "\";");
            }
            if (table.replicaIdentity() == 'n' || (table.replicaIdentity() == 'd' && table.primaryKey().isEmpty())) {
                out.log(LogLevel.WARN, "Table " + s.id() + " has no replica identity: PostgreSQL will refuse its "
                        + "UPDATEs and DELETEs while it is published, and none can be captured. Fix: ALTER TABLE "
                        + s.id().quoted() + " REPLICA IDENTITY FULL; (or add a primary key).");
            }
            List<String> generatedKey = GeneratedKeyColumns.of(table, key);
            if (!generatedKey.isEmpty() && s.syncMode() == ConfiguredCatalog.SyncMode.INCREMENTAL
                    && !publishesGeneratedColumns(query, config.publicationName())) {
                problems.add(GeneratedKeyColumns.problem(s.id(), key, generatedKey, config.publicationName(),
                        catalog.serverMajorVersion()));
            }
            targets.put(s.id(), new Target(s.id(), List.copyOf(key), table));
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
            throw ConnectorException.transientError("Looking up the partition root of relation " + oid + " failed: "
                    + e.getMessage(), e);
        }
    }
}
