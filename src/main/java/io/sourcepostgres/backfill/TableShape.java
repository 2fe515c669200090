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

    /**
     * The shape of {@code table} as the server has it. Called with the table locked in the caller's
     * transaction, so that no change to it can commit until that transaction ends.
     */
    static TableShape read(Connection c, DiscoveredTable table) throws SQLException {
        List<String> columns = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT attname, attnum, atttypid::bigint, atttypmod,"
                + " attgenerated <> '' FROM pg_catalog.pg_attribute WHERE attrelid = ? AND attnum > 0"
                + " AND NOT attisdropped ORDER BY attnum")) {
            ps.setLong(1, table.oid());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    columns.add(describe(rs.getString(1), rs.getInt(2), rs.getLong(3), rs.getInt(4), rs.getBoolean(5)));
                }
            }
        }
        return new TableShape(List.copyOf(columns));
    }

    private static String describe(String name, int attnum, long typeOid, int typmod, boolean generated) {
        return attnum + ":" + name + ":" + typeOid + ":" + typmod + (generated ? ":generated" : "");
    }
}
