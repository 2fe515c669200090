package io.sourcepostgres.capture;

import io.sourcepostgres.airbyte.ConnectorException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What makes the publication publish a table, as a token that changes whenever the table leaves the
 * publication and comes back. PostgreSQL keeps no history of a publication's tables, but every entry has an
 * oid of its own: {@code ALTER PUBLICATION ... DROP TABLE} deletes the table's {@code pg_publication_rel}
 * row, {@code ADD TABLE} makes a new one with a new oid; a publication dropped and recreated gets a new oid
 * too. The token lists those oids: the publication's own for {@code FOR ALL TABLES}, the table's (or its
 * partitions') {@code pg_publication_rel} entries, and from PostgreSQL 15 the schema entries of
 * {@code FOR TABLES IN SCHEMA}. Writes made while a table was out of the publication were never published, so
 * a stream whose token changed has lost changes and must be backfilled again.
 */
final class PublicationMembership {
    /** The token of a table the publication does not publish. */
    static final String NONE = "none";
    /** Tables per query of {@link #ofAll}. */
    private static final int BATCH_TABLES = 1000;

    private final Connection connection;
    private final String publication;
    private final String sql;

    PublicationMembership(Connection connection, String publication, int serverMajorVersion) {
        this.connection = connection;
        // pg_partition_tree lists a partitioned table and its partitions, but nothing for an ordinary table.
        String tree = "(SELECT r.oid UNION SELECT relid FROM pg_catalog.pg_partition_tree(r.oid))";
        String schemas = serverMajorVersion >= 15
                ? " UNION ALL SELECT 'schema:' || pn.oid FROM pg_catalog.pg_publication_namespace pn"
                        + " WHERE pn.pnpubid = p.oid AND pn.pnnspid IN (SELECT c.relnamespace FROM pg_catalog.pg_class c"
                        + " WHERE c.oid IN " + tree + ")"
                : "";
        // One row per table asked about, its token computed as if asked alone.
        this.sql = "SELECT r.oid::int8, (SELECT string_agg(entry, ',' ORDER BY entry) FROM pg_catalog.pg_publication p"
                + " CROSS JOIN LATERAL ("
                + " SELECT 'all:' || p.oid WHERE p.puballtables"
                + " UNION ALL SELECT 'table:' || pr.oid FROM pg_catalog.pg_publication_rel pr"
                + " WHERE pr.prpubid = p.oid AND pr.prrelid IN " + tree
                + schemas + ") AS e(entry) WHERE p.pubname = ? AND entry IS NOT NULL)"
                + " FROM unnest(?::oid[]) AS r(oid)";
        this.publication = publication;
    }

    /** The oid of the table that has {@code stream}'s name now; 0 when there is none. */
    long currentOid(io.sourcepostgres.airbyte.StreamId stream) {
        try (PreparedStatement ps = connection.prepareStatement("SELECT c.oid FROM pg_catalog.pg_class c JOIN "
                + "pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ? AND c.relname = ?")) {
            ps.setString(1, stream.namespace() == null ? "public" : stream.namespace());
            ps.setString(2, stream.name());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0;
            }
        } catch (SQLException e) {
            throw ConnectorException.transientError("Looking up table " + stream + " failed: " + e.getMessage(), e);
        }
    }

    /** The token of table {@code oid} now: {@link #NONE} when the publication does not publish it. */
    String of(long oid) {
        return ofAll(List.of(oid)).get(oid);
    }

    /** Per table oid, its token now ({@link #of}), with one query per {@value #BATCH_TABLES} tables. */
    Map<Long, String> ofAll(List<Long> oids) {
        Map<Long, String> tokens = new HashMap<>();
        for (int from = 0; from < oids.size(); from += BATCH_TABLES) {
            List<Long> batch = oids.subList(from, Math.min(oids.size(), from + BATCH_TABLES));
            try (PreparedStatement ps = connection.prepareStatement(sql)) {
                ps.setString(1, publication);
                ps.setArray(2, connection.createArrayOf("int8", batch.toArray(Long[]::new)));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        String token = rs.getString(2);
                        tokens.put(rs.getLong(1), token == null ? NONE : token);
                    }
                }
            } catch (SQLException e) {
                throw ConnectorException.transientError("Reading the publication \"" + publication + "\" entries of "
                        + (oids.size() == 1 ? "table oid " + oids.get(0) : oids.size() + " tables") + " failed: "
                        + e.getMessage(), e);
            }
        }
        return tokens;
    }
}
