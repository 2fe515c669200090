package io.sourcepostgres.backfill;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcepostgres.airbyte.Json;
import io.sourcepostgres.airbyte.StreamId;
import io.sourcepostgres.config.ConnectorConfig;
import io.sourcepostgres.discovery.ColumnInfo;
import io.sourcepostgres.discovery.DiscoveredTable;
import io.sourcepostgres.discovery.TableCatalog;
import io.sourcepostgres.pgoutput.TupleData;
import io.sourcepostgres.postgres.PgConnections;
import io.sourcepostgres.postgres.Sql;
import io.sourcepostgres.testing.PostgresCluster;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** Shared steps of the backfill integration tests: connections, tables, and reading a whole table chunk by chunk. */
final class BackfillFixture {
    private BackfillFixture() {}

    /** A query connection exactly as the connector opens it: canonical session settings, autocommit. */
    static Connection connect(PostgresCluster pg, String db) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("connectionURI", pg.uri("postgres", null, db));
        return new PgConnections(ConnectorConfig.from(Json.MAPPER.valueToTree(json))).openQuery();
    }

    static DiscoveredTable table(Connection c, String schema, String name) {
        StreamId id = new StreamId(schema, name);
        return TableCatalog.read(c, "no_publication", List.of(id)).table(id)
                .orElseThrow(() -> new AssertionError("no table " + id));
    }

    static BackfillPlan plan(Connection c, String schema, String name, String... catalogKey) {
        return BackfillPlan.of(c, table(c, schema, name), List.of(catalogKey));
    }

    /** What reading a whole table chunk by chunk gave. */
    record Read(List<List<String>> rows, List<Chunk> chunks) {}

    /**
     * Reads the whole table, each chunk resuming from the previous chunk's resume_after after a round trip
     * through JSON text, as the state would carry it.
     */
    static Read readAll(Connection c, BackfillPlan plan, int maxRows, long maxBytes) throws Exception {
        ChunkReader reader = new ChunkReader(plan);
        List<List<String>> rows = new ArrayList<>();
        List<Chunk> chunks = new ArrayList<>();
        JsonNode resume = null;
        long bound = count(c, plan) + 5;
        while (true) {
            Chunk chunk = reader.read(c, resume, maxRows, maxBytes);
            chunks.add(chunk);
            chunk.rows().forEach(r -> rows.add(texts(r)));
            if (chunk.done()) {
                return new Read(rows, chunks);
            }
            assertThat(chunk.rowsRead()).as("a chunk that is not done read rows").isPositive();
            resume = Json.MAPPER.readTree(Json.MAPPER.writeValueAsString(chunk.resumeAfter()));
            assertThat((long) chunks.size()).as("chunks needed").isLessThanOrEqualTo(bound);
        }
    }

    static List<String> texts(TupleData row) {
        List<String> values = new ArrayList<>();
        for (int i = 0; i < row.size(); i++) {
            values.add(row.isNull(i) ? null : new String(row.buffer(), row.offset(i), row.length(i), StandardCharsets.UTF_8));
        }
        return values;
    }

    /**
     * The table's rows as PostgreSQL itself orders them by the key columns (plain ORDER BY, written here
     * independently of the reader), each value through the type's output function ({@code format('%s')}).
     */
    static List<List<String>> expected(Connection c, BackfillPlan plan) throws SQLException {
        String columns = plan.columns().stream().map(ColumnInfo::name).map(Sql::identifier)
                .map(n -> "CASE WHEN " + n + " IS NULL THEN NULL ELSE pg_catalog.format('%s', " + n + ") END")
                .collect(Collectors.joining(", "));
        String order = plan.keyColumnNames().stream().map(Sql::identifier).collect(Collectors.joining(", "));
        String from = (plan.table().isPartitioned() ? "" : "ONLY ") + plan.table().id().quoted();
        List<List<String>> rows = new ArrayList<>();
        try (Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT " + columns + " FROM " + from + " ORDER BY " + order)) {
            int n = plan.columns().size();
            while (rs.next()) {
                List<String> row = new ArrayList<>();
                for (int i = 1; i <= n; i++) {
                    byte[] b = rs.getBytes(i);
                    row.add(b == null ? null : new String(b, StandardCharsets.UTF_8));
                }
                rows.add(row);
            }
        }
        return rows;
    }

    static long count(Connection c, BackfillPlan plan) throws SQLException {
        String from = (plan.table().isPartitioned() ? "" : "ONLY ") + plan.table().id().quoted();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM " + from)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    static String queryString(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    static int serverMajor(Connection c) throws SQLException {
        return Integer.parseInt(queryString(c, "SHOW server_version_num")) / 10000;
    }
}
