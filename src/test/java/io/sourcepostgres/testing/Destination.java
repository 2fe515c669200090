package io.sourcepostgres.testing;

import com.fasterxml.jackson.databind.JsonNode;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * Plays the destination of an orchestrator: applies the connector's records to tables of a second
 * database by {@link AppliedRecords}' rules — upsert by primary key, delete where {@code _ab_cdc_deleted_at}
 * is set — so tests can compare
 * the two databases row for row. Values are cast back by PostgreSQL itself ({@code jsonb_populate_record}),
 * which also proves that the emitted JSON reads back as the original values.
 */
public final class Destination {
    private final PostgresCluster pg;
    private final String database;

    public Destination(PostgresCluster pg, String database) {
        this.pg = pg;
        this.database = database;
    }

    public String database() {
        return database;
    }

    /** Creates the destination copy of a table, given its DDL (column list and primary key). */
    public void createTable(String qualifiedName, String columnsAndKey) {
        pg.execute(database, "CREATE TABLE " + qualifiedName + " (" + columnsAndKey + ")");
    }

    /** Applies records in order: upserts and deletes by each stream's key; an empty key list appends. */
    public void apply(List<JsonNode> records, java.util.Map<String, List<String>> keyColumns) {
        try (Connection c = pg.connect(database)) {
            c.setAutoCommit(false);
            // The destination's tables do not change during one apply: look each one's columns up once.
            java.util.Map<String, List<String>> columnsByTable = new java.util.HashMap<>();
            for (JsonNode r : records) {
                String table = quote(r.path("namespace").asText("public")) + "." + quote(r.get("stream").asText());
                JsonNode data = r.get("data");
                List<String> key = keyColumns.get(r.get("stream").asText());
                if (key == null) {
                    throw new AssertionError("no key columns given for stream " + r.get("stream"));
                }
                if (key.isEmpty()) {
                    append(c, table, data); // a keyless stream is an append-only history
                } else if (AppliedRecords.isDelete(data)) {
                    delete(c, table, key, data);
                } else {
                    upsert(c, table, key, data, columnsByTable.computeIfAbsent(table, t -> columns(c, t)));
                }
            }
            c.commit();
        } catch (SQLException e) {
            throw new IllegalStateException("applying records failed: " + e.getMessage(), e);
        }
    }

    private static void delete(Connection c, String table, List<String> key, JsonNode data) throws SQLException {
        StringBuilder where = new StringBuilder();
        for (String k : key) {
            if (where.length() > 0) {
                where.append(" AND ");
            }
            where.append("t.").append(quote(k)).append(" = r.").append(quote(k));
        }
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + table + " t USING jsonb_populate_record(NULL::"
                + table + ", ?::jsonb) r WHERE " + where)) {
            ps.setString(1, data.toString());
            ps.executeUpdate();
        }
    }

    private static void append(Connection c, String table, JsonNode data) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO " + table + " SELECT * FROM jsonb_populate_record(NULL::" + table + ", ?::jsonb)")) {
            ps.setString(1, data.toString());
            ps.executeUpdate();
        }
    }

    private static List<String> columns(Connection c, String table) {
        List<String> columns = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT attname FROM pg_attribute WHERE attrelid = ?::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum")) {
            ps.setString(1, table);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    columns.add(rs.getString(1));
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read the columns of " + table + ": " + e.getMessage(), e);
        }
        return columns;
    }

    private static void upsert(Connection c, String table, List<String> key, JsonNode data, List<String> columns)
            throws SQLException {
        StringBuilder set = new StringBuilder();
        for (String col : columns) {
            if (!key.contains(col)) {
                set.append(set.length() > 0 ? ", " : "").append(quote(col)).append(" = EXCLUDED.").append(quote(col));
            }
        }
        String keyList = String.join(", ", key.stream().map(Destination::quote).toList());
        String sql = "INSERT INTO " + table + " SELECT * FROM jsonb_populate_record(NULL::" + table + ", ?::jsonb) "
                + "ON CONFLICT (" + keyList + ") DO " + (set.length() == 0 ? "NOTHING" : "UPDATE SET " + set);
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, data.toString());
            ps.executeUpdate();
        }
    }

    /** Every row of one of this destination's tables, as {@link #rows(PostgresCluster, String, String)} gives them. */
    public List<String> rows(String qualifiedTable) {
        return rows(pg, database, qualifiedTable);
    }

    /** Every row of a table as its text form, ordered by the text: comparable across databases. */
    public static List<String> rows(PostgresCluster pg, String database, String qualifiedTable) {
        List<String> rows = new ArrayList<>();
        try (Connection c = pg.connect(database); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT t::text FROM " + qualifiedTable + " t ORDER BY 1")) {
            while (rs.next()) {
                rows.add(rs.getString(1));
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        return rows;
    }

    private static String quote(String identifier) {
        return '"' + identifier.replace("\"", "\"\"") + '"';
    }
}
