package io.sourcepostgres.backfill;

import io.sourcepostgres.discovery.ColumnInfo;
import io.sourcepostgres.discovery.DiscoveredTable;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * The columns of a table as {@code pg_attribute} lists them now (name, position, type, modifier, generated),
 * to tell whether a plan made earlier still fits: a column added, dropped, renamed or whose type changed
 * while the table is being backfilled changes it.
 */
record TableShape(List<String> columns) {

    static TableShape of(DiscoveredTable table) {
        List<String> columns = new ArrayList<>();
        for (ColumnInfo c : table.columns()) {
            columns.add(describe(c.name(), c.attnum(), c.type().oid(), c.typmod(), c.generated()));
        }
        return new TableShape(List.copyOf(columns));
    }

    /** A table's shape and the snapshot of the transaction it was read in. */
    record InSnapshot(TableShape shape, ChunkSnapshot snapshot) {}

    /**
     * Begins a repeatable-read, read-only transaction, locks {@code table} in ACCESS SHARE mode when {@code lock}
     * says so, and reads its shape and the transaction's snapshot, which that read takes (LOCK takes none): the
     * statements a chunk's read starts with, sent in one round trip. After a failure the transaction may be open
     * and aborted; the caller rolls it back.
     */
    static InSnapshot beginAndRead(Connection c, DiscoveredTable table, boolean lock, int serverMajorVersion)
            throws SQLException {
        AllInSnapshot all = begin(c, List.of(table), lock, serverMajorVersion);
        return new InSnapshot(all.of(table), all.snapshot());
    }

    /** The shapes of several tables, by oid, and the snapshot of the one transaction they were read in. */
    record AllInSnapshot(java.util.Map<Long, TableShape> shapes, ChunkSnapshot snapshot) {
        /** The shape of {@code table} now (no columns when the catalog listed none). */
        TableShape of(DiscoveredTable table) {
            return shapes.getOrDefault(table.oid(), new TableShape(List.of()));
        }
    }

    /**
     * As {@link #beginAndRead} for several tables at once, in one round trip: begins the repeatable-read
     * transaction, locks every table in ACCESS SHARE mode (before the snapshot: LOCK takes none, so no ALTER or
     * rewrite of any of them can commit between the snapshot and their rows), and reads their shapes with the
     * snapshot. The caller rolls the transaction back after a failure.
     */
    static AllInSnapshot beginAndReadAll(Connection c, List<DiscoveredTable> tables, int serverMajorVersion)
            throws SQLException {
        return begin(c, tables, true, serverMajorVersion);
    }

    private static AllInSnapshot begin(Connection c, List<DiscoveredTable> tables, boolean lock, int serverMajorVersion)
            throws SQLException {
        StringBuilder sql = new StringBuilder("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY;");
        if (lock) {
            for (int i = 0; i < tables.size(); i++) {
                sql.append(i == 0 ? " LOCK TABLE ONLY " : ", ").append(tables.get(i).id().quoted());
            }
            sql.append(" IN ACCESS SHARE MODE;");
        }
        // attrelid compared as an oid, so that pg_attribute's index serves it (a chunk of a large table runs this).
        sql.append(" SELECT s.snapshot, a.attrelid::bigint, a.attname, a.attnum, a.atttypid::bigint, a.atttypmod,"
                + " a.attgenerated <> ''"
                + " FROM (SELECT " + (serverMajorVersion >= 13 ? "pg_catalog.pg_current_snapshot()"
                        : "pg_catalog.txid_current_snapshot()") + "::text) AS s(snapshot)"
                + " LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = ANY (?::oid[]) AND a.attnum > 0"
                + " AND NOT a.attisdropped ORDER BY a.attrelid, a.attnum");
        try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
            ps.setArray(1, c.createArrayOf("int8", tables.stream().map(DiscoveredTable::oid).toArray(Long[]::new)));
            boolean rows = ps.execute();
            while (!rows) {
                if (ps.getUpdateCount() == -1) {
                    throw new IllegalStateException("The shape query of " + tables.size() + " tables returned no rows");
                }
                rows = ps.getMoreResults();
            }
            java.util.Map<Long, List<String>> columns = new java.util.HashMap<>();
            String snapshot = null;
            try (ResultSet rs = ps.getResultSet()) {
                while (rs.next()) {
                    snapshot = rs.getString(1);
                    if (rs.getString(3) != null) {
                        columns.computeIfAbsent(rs.getLong(2), k -> new ArrayList<>()).add(
                                describe(rs.getString(3), rs.getInt(4), rs.getLong(5), rs.getInt(6), rs.getBoolean(7)));
                    }
                }
            }
            java.util.Map<Long, TableShape> shapes = new java.util.HashMap<>();
            columns.forEach((oid, cols) -> shapes.put(oid, new TableShape(List.copyOf(cols))));
            return new AllInSnapshot(shapes, ChunkSnapshot.parse(snapshot));
        }
    }

    private static String describe(String name, int attnum, long typeOid, int typmod, boolean generated) {
        return attnum + ":" + name + ":" + typeOid + ":" + typmod + (generated ? ":generated" : "");
    }
}
