package io.sourcepostgres.postgres;

import io.sourcepostgres.airbyte.StreamId;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Finds and creates publications in the connection's database, and lists the tables they publish. */
public final class Publications {
    private Publications() {}

    public static Optional<Publication> find(Connection c, String name) throws SQLException {
        // pubviaroot arrived in PostgreSQL 13.
        String viaRoot = c.getMetaData().getDatabaseMajorVersion() >= 13 ? "pubviaroot" : "false";
        String sql = "SELECT pubname, puballtables, pubinsert, pubupdate, pubdelete, pubtruncate, " + viaRoot
                + " FROM pg_catalog.pg_publication WHERE pubname = ?";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                return Optional.of(new Publication(rs.getString(1), rs.getBoolean(2), rs.getBoolean(3),
                        rs.getBoolean(4), rs.getBoolean(5), rs.getBoolean(6), rs.getBoolean(7)));
            }
        }
    }

    /**
     * Whether pgoutput sends the stored generated columns of the publication's tables: only from PostgreSQL
     * 18, and only when the publication was made with {@code publish_generated_columns = stored}. Before 18
     * pgoutput never sends a generated column.
     */
    public static boolean publishesGeneratedColumns(Connection c, String name) throws SQLException {
        if (c.getMetaData().getDatabaseMajorVersion() < 18) {
            return false;
        }
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT pubgencols::text IN ('s', 'true') FROM pg_catalog.pg_publication WHERE pubname = ?")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getBoolean(1);
            }
        }
    }

    /**
     * Creates the publication FOR ALL TABLES (which needs a superuser) and returns it. If another process
     * created it meanwhile, returns that one. Never with {@code publish_via_partition_root}: each partition's changes
     * arrive as its own and the capture maps them to the root's stream, because with the option pgoutput sends
     * nothing for a TRUNCATE of one partition, and FOR ALL TABLES with it crashes the walsender on 14+ at a row written
     * during a pending DETACH ... CONCURRENTLY ({@link PartitionRootPublishing}).
     */
    public static Publication createForAllTables(Connection c, String name) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("CREATE PUBLICATION " + Sql.identifier(name) + " FOR ALL TABLES");
        } catch (SQLException e) {
            if (SqlFailures.causeOf(e) == SqlFailures.Cause.NOT_PERMITTED) {
                throw SqlFailures.explained("Not allowed to create publication " + Sql.identifier(name) + ": "
                        + e.getMessage() + ". Have a superuser run CREATE PUBLICATION " + Sql.identifier(name)
                        + " FOR ALL TABLES; (or, as the tables' owner, CREATE PUBLICATION " + Sql.identifier(name)
                        + " FOR TABLE <schema>.<table>, ...;).", e);
            }
            if (!"42710".equals(e.getSQLState())) {
                throw e;
            }
        }
        return find(c, name).orElseThrow(() -> new SQLException("publication " + name + " vanished right after creation"));
    }

    /** The tables the publication publishes now, by schema and name. */
    public static List<StreamId> tables(Connection c, String name) throws SQLException {
        List<StreamId> tables = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT schemaname, tablename"
                + " FROM pg_catalog.pg_publication_tables WHERE pubname = ? ORDER BY schemaname, tablename")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    tables.add(new StreamId(rs.getString(1), rs.getString(2)));
                }
            }
        }
        return tables;
    }
}
