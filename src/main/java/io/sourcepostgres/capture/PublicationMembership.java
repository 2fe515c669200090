package io.sourcepostgres.capture;

import io.sourcepostgres.airbyte.ConnectorException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

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

    private final Connection connection;
    private final String publication;
    private final String sql;

    PublicationMembership(Connection connection, String publication, int serverMajorVersion) {
        this.connection = connection;
        // pg_partition_tree lists a partitioned table and its partitions, but nothing for an ordinary table.
        String tree = "(SELECT ?::oid UNION SELECT relid FROM pg_catalog.pg_partition_tree(?::oid))";
        String schemas = serverMajorVersion >= 15
                ? " UNION ALL SELECT 'schema:' || pn.oid FROM pg_catalog.pg_publication_namespace pn"
                        + " WHERE pn.pnpubid = p.oid AND pn.pnnspid IN (SELECT c.relnamespace FROM pg_catalog.pg_class c"
                        + " WHERE c.oid IN " + tree + ")"
                : " UNION ALL SELECT NULL WHERE ?::oid IS NULL AND ?::oid IS NULL";
        this.sql = "SELECT string_agg(entry, ',' ORDER BY entry) FROM pg_catalog.pg_publication p CROSS JOIN LATERAL ("
                + " SELECT 'all:' || p.oid WHERE p.puballtables"
                + " UNION ALL SELECT 'table:' || pr.oid FROM pg_catalog.pg_publication_rel pr"
                + " WHERE pr.prpubid = p.oid AND pr.prrelid IN " + tree
                + schemas + ") AS e(entry) WHERE p.pubname = ? AND entry IS NOT NULL";
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
        try (PreparedStatement ps = connection.prepareStatement(sql)) {
            for (int i = 1; i <= 4; i++) {
                ps.setLong(i, oid);
            }
            ps.setString(5, publication);
            try (ResultSet rs = ps.executeQuery()) {
                String token = rs.next() ? rs.getString(1) : null;
                return token == null ? NONE : token;
            }
        } catch (SQLException e) {
            throw ConnectorException.transientError("Reading the publication \"" + publication + "\" entries of table "
                    + "oid " + oid + " failed: " + e.getMessage(), e);
        }
    }
}
