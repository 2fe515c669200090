package io.sourcepostgres.discovery;

import io.sourcepostgres.airbyte.StreamId;
import io.sourcepostgres.values.PgType;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads the tables, columns, keys, types, partitions and publication membership from the system catalogs
 * in a handful of queries whatever the number of tables, all inside one repeatable-read transaction so
 * that they describe one and the same moment.
 */
final class CatalogReader {
    /** Tables and partitioned-table roots outside the system schemas; partitions belong to their root's stream. */
    private static final String TABLES = """
            SELECT c.oid, n.nspname, c.relname, c.relkind, c.relpersistence, c.relreplident,
                   has_schema_privilege(n.oid, 'USAGE'), has_table_privilege(c.oid, 'SELECT')
            FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p')
              AND NOT c.relispartition
              AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
              AND n.nspname NOT LIKE 'pg\\_temp\\_%'
              AND n.nspname NOT LIKE 'pg\\_toast\\_temp\\_%'
            """;

    private static final String ONLY = """
              AND (n.nspname, c.relname) IN (SELECT * FROM unnest(?::text[], ?::text[]))
            """;

    private static final String COLUMNS = """
            SELECT a.attrelid, a.attname, a.attnum, a.atttypid, a.atttypmod, a.attndims, a.attnotnull,
                   a.attgenerated <> ''
            FROM pg_attribute a
            WHERE a.attrelid = ANY (?::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
            ORDER BY a.attrelid, a.attnum
            """;

    /**
     * Key order is the index's column order (indkey), which need not be the table's column order. indkey also
     * lists the INCLUDE columns of {@code PRIMARY KEY (a, b) INCLUDE (c)} after the key's own: only the first
     * indnkeyatts are the key.
     */
    private static final String PRIMARY_KEYS = """
            SELECT i.indrelid, a.attname
            FROM pg_index i
            CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, position)
            JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
            WHERE i.indisprimary AND i.indrelid = ANY (?::oid[]) AND k.position <= i.indnkeyatts
            ORDER BY i.indrelid, k.position
            """;

    /**
     * pg_publication_tables expands FOR ALL TABLES, FOR TABLES IN SCHEMA and partitioned tables (to their
     * leaves, or to the root with publish_via_partition_root), and leaves out what cannot be published
     * (unlogged tables); pg_publication_rel adds a partitioned table listed explicitly but still empty.
     */
    private static final String PUBLISHED = """
            SELECT c.oid
            FROM pg_publication_tables pt
            JOIN pg_namespace n ON n.nspname = pt.schemaname
            JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = pt.tablename
            WHERE pt.pubname = ?
            UNION
            SELECT pr.prrelid
            FROM pg_publication_rel pr
            JOIN pg_publication p ON p.oid = pr.prpubid
            WHERE p.pubname = ?
            """;

    /** A partition is published when it or one of its ancestors is (pg_partition_ancestors includes itself). */
    private static final String PARTITIONS = """
            SELECT r.root, t.relid::oid, n.nspname, c.relname, t.isleaf,
                   EXISTS (SELECT 1 FROM pg_partition_ancestors(t.relid) a WHERE a.relid::oid = ANY (?::oid[]))
            FROM unnest(?::oid[]) AS r(root)
            CROSS JOIN LATERAL pg_partition_tree(r.root) AS t
            JOIN pg_class c ON c.oid = t.relid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE t.level > 0
            ORDER BY r.root, t.level, n.nspname, c.relname
            """;

    private final Connection connection;

    private CatalogReader(Connection connection) {
        this.connection = connection;
    }

    /**
     * Reads the catalog; {@code only}, when not null, limits it to those streams. On a connection in
     * autocommit mode the queries run in a repeatable-read transaction of their own; otherwise they run in
     * the caller's transaction (whose snapshot they then share) and leave it open.
     */
    static TableCatalog read(Connection connection, String publicationName, Collection<StreamId> only)
            throws SQLException {
        boolean autoCommit = connection.getAutoCommit();
        if (!autoCommit) {
            return new CatalogReader(connection).read(publicationName, only);
        }
        int isolation = connection.getTransactionIsolation();
        connection.setAutoCommit(false);
        connection.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
        TableCatalog catalog;
        try {
            catalog = new CatalogReader(connection).read(publicationName, only);
            connection.commit();
        } catch (SQLException | RuntimeException e) {
            // the failure is what the caller must hear about, not a rollback on a broken connection
            try {
                connection.rollback();
                connection.setTransactionIsolation(isolation);
                connection.setAutoCommit(true);
            } catch (SQLException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        connection.setTransactionIsolation(isolation);
        connection.setAutoCommit(true);
        return catalog;
    }

    private TableCatalog read(String publicationName, Collection<StreamId> only) throws SQLException {
        int serverMajor = connection.getMetaData().getDatabaseMajorVersion();
        String user = currentUser();
        PublicationInfo publication = publication(publicationName, serverMajor);
        Set<Long> published = publication.exists() ? published(publicationName) : Set.of();

        List<TableRow> tables = tables(only);
        List<Long> oids = tables.stream().map(TableRow::oid).toList();
        Map<Long, List<ColumnRow>> columns = columns(oids);
        Map<Long, List<String>> keys = primaryKeys(oids);
        Map<Long, List<Partition>> partitions = partitions(
                tables.stream().filter(t -> t.relkind == 'p').map(TableRow::oid).toList(), published);

        Set<Long> typeOids = new HashSet<>();
        columns.values().forEach(cs -> cs.forEach(c -> typeOids.add(c.typeOid)));
        Map<Long, PgType> types = typeOids.isEmpty() ? Map.of() : TypeResolver.resolve(connection, typeOids);

        List<DiscoveredTable> discovered = new ArrayList<>(tables.size());
        for (TableRow t : tables) {
            List<ColumnInfo> cols = new ArrayList<>();
            for (ColumnRow c : columns.getOrDefault(t.oid, List.of())) {
                cols.add(new ColumnInfo(c.name, c.attnum, types.get(c.typeOid), c.typmod, c.dimensions, c.notNull,
                        c.generated));
            }
            List<Partition> parts = partitions.getOrDefault(t.oid, List.of());
            discovered.add(new DiscoveredTable(t.id, t.oid, t.relkind, t.persistence, t.replicaIdentity, cols,
                    keys.getOrDefault(t.oid, List.of()), t.schemaUsage, t.selectPrivilege,
                    inPublication(t, parts, published), parts));
        }
        return new TableCatalog(discovered, publication, user, serverMajor);
    }

    /**
     * Without publish_via_partition_root a partitioned table's changes are published as its leaves' changes,
     * so the table is captured when the publication has it or all of its leaves.
     */
    private static boolean inPublication(TableRow table, List<Partition> partitions, Set<Long> published) {
        if (published.contains(table.oid)) {
            return true;
        }
        List<Partition> leaves = partitions.stream().filter(Partition::leaf).toList();
        return table.relkind == 'p' && !leaves.isEmpty() && leaves.stream().allMatch(Partition::inPublication);
    }

    private String currentUser() throws SQLException {
        try (Statement st = connection.createStatement(); ResultSet rs = st.executeQuery("SELECT current_user")) {
            rs.next();
            return rs.getString(1);
        }
    }

    private PublicationInfo publication(String name, int serverMajor) throws SQLException {
        // publish_via_partition_root arrived in PostgreSQL 13.
        String sql = "SELECT puballtables, " + (serverMajor >= 13 ? "pubviaroot" : "false")
                + " FROM pg_publication WHERE pubname = ?";
        try (PreparedStatement st = connection.prepareStatement(sql)) {
            st.setString(1, name);
            try (ResultSet rs = st.executeQuery()) {
                return rs.next() ? new PublicationInfo(name, true, rs.getBoolean(1), rs.getBoolean(2))
                        : PublicationInfo.missing(name);
            }
        }
    }

    private Set<Long> published(String publicationName) throws SQLException {
        Set<Long> oids = new HashSet<>();
        try (PreparedStatement st = connection.prepareStatement(PUBLISHED)) {
            st.setString(1, publicationName);
            st.setString(2, publicationName);
            try (ResultSet rs = st.executeQuery()) {
                while (rs.next()) {
                    oids.add(rs.getLong(1));
                }
            }
        }
        return oids;
    }

    private List<TableRow> tables(Collection<StreamId> only) throws SQLException {
        List<TableRow> rows = new ArrayList<>();
        try (PreparedStatement st = connection.prepareStatement(only == null ? TABLES : TABLES + ONLY)) {
            if (only != null) {
                st.setArray(1, connection.createArrayOf("text",
                        only.stream().map(s -> s.namespace() == null ? "" : s.namespace()).toArray(String[]::new)));
                st.setArray(2, connection.createArrayOf("text", only.stream().map(StreamId::name).toArray(String[]::new)));
            }
            try (ResultSet rs = st.executeQuery()) {
                while (rs.next()) {
                    rows.add(new TableRow(rs.getLong(1), new StreamId(rs.getString(2), rs.getString(3)),
                            rs.getString(4).charAt(0), rs.getString(5).charAt(0), rs.getString(6).charAt(0),
                            rs.getBoolean(7), rs.getBoolean(8)));
                }
            }
        }
        return rows;
    }

    private Map<Long, List<ColumnRow>> columns(List<Long> tableOids) throws SQLException {
        Map<Long, List<ColumnRow>> byTable = new HashMap<>();
        try (PreparedStatement st = connection.prepareStatement(COLUMNS)) {
            st.setArray(1, oidArray(tableOids));
            try (ResultSet rs = st.executeQuery()) {
                while (rs.next()) {
                    byTable.computeIfAbsent(rs.getLong(1), k -> new ArrayList<>()).add(new ColumnRow(rs.getString(2),
                            rs.getInt(3), rs.getLong(4), rs.getInt(5), rs.getInt(6), rs.getBoolean(7), rs.getBoolean(8)));
                }
            }
        }
        return byTable;
    }

    private Map<Long, List<String>> primaryKeys(List<Long> tableOids) throws SQLException {
        Map<Long, List<String>> byTable = new HashMap<>();
        try (PreparedStatement st = connection.prepareStatement(PRIMARY_KEYS)) {
            st.setArray(1, oidArray(tableOids));
            try (ResultSet rs = st.executeQuery()) {
                while (rs.next()) {
                    byTable.computeIfAbsent(rs.getLong(1), k -> new ArrayList<>()).add(rs.getString(2));
                }
            }
        }
        return byTable;
    }

    private Map<Long, List<Partition>> partitions(List<Long> roots, Set<Long> published) throws SQLException {
        if (roots.isEmpty()) {
            return Map.of();
        }
        Map<Long, List<Partition>> byRoot = new LinkedHashMap<>();
        try (PreparedStatement st = connection.prepareStatement(PARTITIONS)) {
            st.setArray(1, oidArray(published));
            st.setArray(2, oidArray(roots));
            try (ResultSet rs = st.executeQuery()) {
                while (rs.next()) {
                    byRoot.computeIfAbsent(rs.getLong(1), k -> new ArrayList<>()).add(new Partition(
                            new StreamId(rs.getString(3), rs.getString(4)), rs.getLong(2), rs.getBoolean(5),
                            rs.getBoolean(6)));
                }
            }
        }
        return byRoot;
    }

    private Array oidArray(Collection<Long> oids) throws SQLException {
        return connection.createArrayOf("int8", oids.toArray(Long[]::new));
    }

    private record TableRow(long oid, StreamId id, char relkind, char persistence, char replicaIdentity,
            boolean schemaUsage, boolean selectPrivilege) {}

    private record ColumnRow(String name, int attnum, long typeOid, int typmod, int dimensions, boolean notNull,
            boolean generated) {}
}
