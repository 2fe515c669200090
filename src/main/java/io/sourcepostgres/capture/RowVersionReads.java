package io.sourcepostgres.capture;

import io.sourcepostgres.airbyte.StreamId;
import io.sourcepostgres.pgoutput.Lsn;
import io.sourcepostgres.pgoutput.TupleData;
import io.sourcepostgres.streams.CapturedTable;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The one statement {@link UnsentToastValues} reads rows with: for a batch of keys of one table, each row
 * version's {@code xmin}, the values of its unsent columns where that version is the one wanted, and the server's
 * WAL insert position. Kept prepared per table shape; counts what it read, for the run's summary.
 */
final class RowVersionReads {
    /** No particular version wanted (only the committing transaction's, if any). */
    static final long ANY = -1;

    /**
     * What one read found: the WAL insert position read after its snapshot, the {@code xmin} of each key found,
     * and the unsent columns' values (UTF-8 text, null for SQL NULL) of the keys whose version was wanted.
     */
    record Found(long position, Map<String, Long> xmins, Map<String, byte[][]> values) {}

    private final Connection query;
    private final Map<String, String> sqlByShape = new HashMap<>();
    private long statements;
    private long rows;
    private long rowsWithValues;

    RowVersionReads(Connection query) {
        this.query = query;
    }

    /**
     * Reads the rows whose keys {@code keyRows} carry (one table, one shape). A version is wanted when its
     * {@code xmin} is one of {@code own} (the committing transaction's xids) or the key's {@code wanted} entry
     * ({@link #ANY}: none).
     */
    Found read(CapturedTable table, List<Integer> columns, List<TupleData> keyRows, long[] wanted, Set<Long> own)
            throws SQLException {
        int[] keys = table.keyIndexes();
        String sql = sqlByShape.computeIfAbsent(table.id() + "|" + columns + "|" + table.shape(), s -> sql(table, columns));
        Map<String, byte[][]> found = new HashMap<>();
        Map<String, Long> xmins = new HashMap<>();
        long position = 0;
        try (PreparedStatement ps = query.prepareStatement(sql)) {
            String[] ownXids = new String[own.size()];
            int x = 0;
            for (long xid : own) {
                ownXids[x++] = Long.toString(xid);
            }
            ps.setArray(1, query.createArrayOf("text", ownXids));
            // One text array per key column, and one of the versions wanted: one statement for any number of keys.
            for (int k = 0; k < keys.length; k++) {
                String[] values = new String[keyRows.size()];
                for (int r = 0; r < values.length; r++) {
                    values[r] = keyRows.get(r).text(keys[k]);
                }
                ps.setArray(k + 2, query.createArrayOf("text", values));
            }
            String[] versions = new String[keyRows.size()];
            for (int r = 0; r < versions.length; r++) {
                versions[r] = wanted[r] == ANY ? null : Long.toString(wanted[r]);
            }
            ps.setArray(keys.length + 2, query.createArrayOf("text", versions));
            statements++;
            rows += keyRows.size();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    position = Lsn.parse(rs.getString(1));
                    if (rs.getString(2) == null) {
                        continue; // the LEFT JOIN's lone row when no key was found
                    }
                    StringBuilder key = new StringBuilder();
                    for (int k = 0; k < keys.length; k++) {
                        appendKeyPart(key, rs.getString(4 + k));
                    }
                    xmins.put(key.toString(), Long.parseLong(rs.getString(2)));
                    if (rs.getBoolean(3)) {
                        rowsWithValues++;
                        // The text as the server sent it, UTF-8: no decoding to a String and back.
                        byte[][] values = new byte[columns.size()][];
                        for (int m = 0; m < columns.size(); m++) {
                            values[m] = rs.getBytes(4 + keys.length + m);
                        }
                        found.put(key.toString(), values);
                    }
                }
            }
        }
        return new Found(position, xmins, found);
    }

    long statements() {
        return statements;
    }

    long rows() {
        return rows;
    }

    long rowsWithValues() {
        return rowsWithValues;
    }

    /**
     * One statement reads the rows' {@code xmin}, their values where the version is the one wanted, and the WAL
     * insert position. The position is read after the statement's snapshot was taken, so every transaction the
     * snapshot sees committed before it. Parameters: the committing transaction's xids; one text array per key
     * column (cast to the column's type); the version wanted per key (or null). The keys are joined to the table
     * by its key; the LEFT JOIN returns the position even when no key is found. A value not wanted is not read at
     * all: the CASE leaves its TOAST pointer untouched.
     */
    static String sql(CapturedTable table, List<Integer> columns) {
        int[] keys = table.keyIndexes();
        StringBuilder sql = new StringBuilder("SELECT p.lsn::text, r.x::text, r.w");
        for (int k = 0; k < keys.length; k++) {
            sql.append(", r.k").append(k);
        }
        for (int m = 0; m < columns.size(); m++) {
            // A value read whole (a resumed image) may be NULL; format() would make that ''.
            sql.append(", CASE WHEN r.w AND pg_catalog.num_nulls(r.v").append(m).append(") = 0 THEN pg_catalog.format('%s', r.v")
                    .append(m).append(") END");
        }
        // On a standby (16+ can decode) the snapshot sees what was replayed: its replay position plays P's part.
        sql.append(" FROM (SELECT CASE WHEN pg_catalog.pg_is_in_recovery() THEN pg_catalog.pg_last_wal_replay_lsn()"
                + " ELSE pg_catalog.pg_current_wal_insert_lsn() END AS lsn) p LEFT JOIN (SELECT t.xmin AS x,"
                + " coalesce(t.xmin = u.ux OR t.xmin = ANY (CAST(? AS pg_catalog.text[])::pg_catalog.xid[]), false) AS w");
        for (int k = 0; k < keys.length; k++) {
            // format('%s') is the type's output function: the same text pgoutput sends.
            sql.append(", pg_catalog.format('%s', t.").append(column(table, keys[k])).append(") AS k").append(k);
        }
        for (int m = 0; m < columns.size(); m++) {
            sql.append(", t.").append(column(table, columns.get(m))).append(" AS v").append(m);
        }
        sql.append(" FROM unnest(");
        for (int k = 0; k < keys.length; k++) {
            sql.append("CAST(? AS pg_catalog.text[])::").append(table.columns().get(keys[k]).type().sqlName()).append("[], ");
        }
        sql.append("CAST(? AS pg_catalog.text[])::pg_catalog.xid[]) AS u(");
        for (int k = 0; k < keys.length; k++) {
            sql.append('u').append(k).append(", ");
        }
        sql.append("ux) JOIN ").append(table.id().quoted()).append(" t ON ");
        for (int k = 0; k < keys.length; k++) {
            sql.append(k > 0 ? " AND " : "").append("t.").append(column(table, keys[k])).append(" = u.u").append(k);
        }
        return sql.append(") r ON true").toString();
    }

    private static String column(CapturedTable table, int index) {
        return StreamId.quoteIdentifier(table.columns().get(index).name());
    }

    static String key(CapturedTable table, TupleData tuple) {
        StringBuilder key = new StringBuilder();
        for (int k : table.keyIndexes()) {
            appendKeyPart(key, k < tuple.size() ? tuple.text(k) : null);
        }
        return key.toString();
    }

    private static void appendKeyPart(StringBuilder key, String part) {
        // Length-prefixed, so that no two different keys make the same string.
        if (part == null) {
            key.append("-;");
        } else {
            key.append(part.length()).append(':').append(part);
        }
    }
}
