package io.sourcepostgres.capture;

import io.sourcepostgres.airbyte.ConnectorException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * The leaf partitions of partitioned tables, read from the catalog. Attaching, detaching, creating and dropping a
 * partition writes no WAL that pgoutput turns into a message, so the set of leaves is the one way to tell that rows
 * entered or left a root without a change record. A set is kept as a token: the leaves' oids, ascending,
 * comma-separated (empty for a partitioned table without partitions). A partition whose detach is pending
 * ({@code DETACH ... CONCURRENTLY}, PostgreSQL 14+, not finished or interrupted) no longer counts: queries of the root
 * stop seeing its rows at that point.
 */
final class PartitionLeaves {
    private final Connection connection;
    private final String sql;

    PartitionLeaves(Connection connection, int serverMajorVersion) {
        this.connection = connection;
        String notDetaching = serverMajorVersion >= 14
                ? " AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_partition_ancestors(t.relid) a JOIN pg_catalog.pg_inherits i"
                        + " ON i.inhrelid = a.relid WHERE i.inhdetachpending)"
                : "";
        this.sql = "SELECT r.oid, (SELECT coalesce(string_agg(t.relid::oid::bigint::text, ',' ORDER BY t.relid::oid::bigint), '')"
                + " FROM pg_catalog.pg_partition_tree(r.oid) t WHERE t.isleaf" + notDetaching + ")"
                + " FROM pg_catalog.pg_class r WHERE r.oid = ANY (?::oid[]) AND r.relkind = 'p'";
    }

    /** The token of each of {@code roots} that is a partitioned table now; ordinary and missing tables are left out. */
    Map<Long, String> of(Collection<Long> roots) {
        Map<Long, String> tokens = new HashMap<>();
        if (roots.isEmpty()) {
            return tokens;
        }
        try (PreparedStatement ps = connection.prepareStatement(sql)) {
            ps.setArray(1, connection.createArrayOf("bigint", roots.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    tokens.put(rs.getLong(1), rs.getString(2));
                }
            }
        } catch (SQLException e) {
            throw ConnectorException.transientError("Reading the partitions of the captured partitioned tables failed: "
                    + e.getMessage(), e);
        }
        return tokens;
    }

    /** The server's WAL position now (on a standby: its replay position), unsigned. */
    long walPosition() {
        try (Statement st = connection.createStatement(); ResultSet rs = st.executeQuery("SELECT (CASE WHEN"
                + " pg_catalog.pg_is_in_recovery() THEN pg_catalog.pg_last_wal_replay_lsn()"
                + " ELSE pg_catalog.pg_current_wal_insert_lsn() END)::text")) {
            rs.next();
            return io.sourcepostgres.pgoutput.Lsn.parse(rs.getString(1));
        } catch (SQLException e) {
            throw ConnectorException.transientError("Reading the WAL position failed: " + e.getMessage(), e);
        }
    }

    /** Whether relation {@code oid} is a partition of {@code root} now, at any depth. */
    boolean isPartitionOf(long oid, long root) {
        try (PreparedStatement ps = connection.prepareStatement("SELECT pg_catalog.pg_partition_root(?::oid) = ?::oid"
                + " AND ?::oid <> ?::oid")) {
            ps.setLong(1, oid);
            ps.setLong(2, root);
            ps.setLong(3, oid);
            ps.setLong(4, root);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getBoolean(1);
            }
        } catch (SQLException e) {
            throw ConnectorException.transientError("Looking up the partition root of relation " + oid + " failed: "
                    + e.getMessage(), e);
        }
    }

    /** The oids of {@code roots} whose partitions' changes {@code publication} publishes as changes of the root. */
    Set<Long> publishedViaRoot(Collection<Long> roots, String publication, int serverMajorVersion) {
        Set<Long> via = new java.util.HashSet<>();
        if (serverMajorVersion < 13 || roots.isEmpty()) {
            return via; // no publish_via_partition_root: changes come per partition
        }
        // With the option, pg_publication_tables lists a published root (and not its partitions).
        try (PreparedStatement ps = connection.prepareStatement("SELECT c.oid FROM pg_catalog.pg_publication p"
                + " JOIN pg_catalog.pg_publication_tables pt ON pt.pubname = p.pubname"
                + " JOIN pg_catalog.pg_namespace n ON n.nspname = pt.schemaname"
                + " JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = pt.tablename"
                + " WHERE p.pubname = ? AND p.pubviaroot AND c.oid = ANY (?::oid[])")) {
            ps.setString(1, publication);
            ps.setArray(2, connection.createArrayOf("bigint", roots.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    via.add(rs.getLong(1));
                }
            }
        } catch (SQLException e) {
            throw ConnectorException.transientError("Reading publication \"" + publication + "\" failed: "
                    + e.getMessage(), e);
        }
        return via;
    }

    /** The leaves of a token, in its order. */
    static Set<Long> leaves(String token) {
        Set<Long> leaves = new LinkedHashSet<>();
        if (token != null && !token.isEmpty()) {
            Arrays.stream(token.split(",")).map(Long::parseLong).forEach(leaves::add);
        }
        return leaves;
    }

    /** How to name relation {@code oid} to a person now: its qualified name, or that it no longer exists. */
    String describe(long oid) {
        String name = "(SELECT pg_catalog.format('%I.%I', n.nspname, c.relname) FROM pg_catalog.pg_class c"
                + " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = ";
        try (PreparedStatement ps = connection.prepareStatement("SELECT " + name + "?::oid), (SELECT " + name
                + "pg_catalog.pg_partition_root(?::oid)) WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_inherits"
                + " WHERE inhrelid = ?::oid)) FROM pg_catalog.pg_class WHERE oid = ?::oid")) {
            for (int i = 1; i <= 4; i++) {
                ps.setLong(i, oid);
            }
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return "a partition that was dropped (relation oid " + oid + ")";
                }
                return rs.getString(2) == null ? "partition " + rs.getString(1) + " (detached: now a table of its own)"
                        : "partition " + rs.getString(1) + " (now a partition of " + rs.getString(2) + ")";
            }
        } catch (SQLException e) {
            return "relation oid " + oid;
        }
    }

    /**
     * Whether leaf {@code oid} holds a row now. When it cannot be told (no privilege to read the partition on its own,
     * or it is gone) the answer is yes: a needless backfill costs time, a missed one loses rows.
     */
    boolean hasRows(long oid) {
        String name;
        try (PreparedStatement ps = connection.prepareStatement("SELECT ?::oid::regclass::text")) {
            ps.setLong(1, oid);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                name = rs.getString(1); // regclass output is quoted as an identifier needs
            }
            try (Statement st = connection.createStatement();
                    ResultSet rs = st.executeQuery("SELECT EXISTS (SELECT 1 FROM ONLY " + name + ")")) {
                rs.next();
                return rs.getBoolean(1);
            }
        } catch (SQLException e) {
            return true;
        }
    }
}
