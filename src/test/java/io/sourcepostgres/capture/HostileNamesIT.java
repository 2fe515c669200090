package io.sourcepostgres.capture;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcepostgres.testing.CaptureFixture;
import io.sourcepostgres.testing.ConnectorRun;
import io.sourcepostgres.testing.PostgresCluster;
import io.sourcepostgres.testing.PostgresExtension;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Schemas, tables, columns and the publication named with everything SQL text can trip over — quotes,
 * semicolons, reserved words, spaces, Unicode, and names of exactly 63 bytes (PostgreSQL's limit) — are
 * captured exactly by {@code read}: the backfill and the replication stream both emit each row under the
 * stream's true namespace and name, with every column under its true name.
 */
@ExtendWith(PostgresExtension.class)
class HostileNamesIT {
    private static final String SCHEMA = "Sch\"ema; DROP SCHEMA public; --";
    private static final String INJECTION = "Robert'); DROP TABLE students;--";
    private static final String SELECT = "select";
    private static final String UNICODE = "Ünïcødé 表 ✓";
    /** 63 bytes of ASCII, and 63 bytes of two-byte characters plus one: both exactly at NAMEDATALEN - 1. */
    private static final String LONG_ASCII = "t".repeat(63);
    private static final String LONG_UTF8 = "é".repeat(31) + "x";
    private static final List<String> COLUMNS = List.of("select", "a;b", "x\"y", "it's", "Mixed Case", "ключ",
            "c".repeat(63), "é".repeat(31) + "z", "$1", "from where");

    private static String q(String identifier) {
        return '"' + identifier.replace("\"", "\"\"") + '"';
    }

    private static String lit(String text) {
        return "'" + text.replace("'", "''") + "'";
    }

    /** The tables: (schema, name); each has every hostile column, the first ("select") as its key. */
    private static final List<String[]> TABLES = List.of(new String[] {SCHEMA, INJECTION}, new String[] {"public", SELECT},
            new String[] {SCHEMA, UNICODE}, new String[] {"public", LONG_ASCII}, new String[] {SCHEMA, LONG_UTF8});

    private static String ddl(String schema, String table) {
        StringBuilder sql = new StringBuilder("CREATE TABLE " + q(schema) + "." + q(table) + " (");
        for (String c : COLUMNS) {
            sql.append(q(c)).append(c.equals("select") ? " int PRIMARY KEY, " : " text, ");
        }
        return sql.append("\"ʻokina\" int)").toString();
    }

    private static String insert(String schema, String table, int id) {
        StringBuilder cols = new StringBuilder();
        StringBuilder vals = new StringBuilder();
        for (String c : COLUMNS) {
            cols.append(q(c)).append(", ");
            vals.append(c.equals("select") ? String.valueOf(id) : lit(value(c, id))).append(", ");
        }
        return "INSERT INTO " + q(schema) + "." + q(table) + " (" + cols + "\"ʻokina\") VALUES (" + vals + id + ")";
    }

    /** A value that is itself hostile, and tells which column and row it belongs to. */
    private static String value(String column, int id) {
        return column + "'; \"" + id + "\" ;--";
    }

    @Test
    void hostileNamesAreCapturedExactlyByBackfillAndReplication(PostgresCluster pg) {
        assertThat(LONG_UTF8.getBytes(StandardCharsets.UTF_8)).hasSize(63);
        try (CaptureFixture f = new CaptureFixture(pg)) {
            String publication = "pub \"q\", 'x'; select " + f.slot.substring(5);
            f.config().put("publication_name", publication);
            f.sql("CREATE SCHEMA " + q(SCHEMA));
            for (String[] t : TABLES) {
                f.sql(ddl(t[0], t[1]), insert(t[0], t[1], 1), insert(t[0], t[1], 2));
                f.capture(t[0], t[1]);
            }
            // The names really are what the test means: none was truncated or folded by the server.
            for (String[] t : TABLES) {
                assertThat(f.scalar("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                        + "WHERE n.nspname = " + lit(t[0]) + " AND c.relname = " + lit(t[1]))).isEqualTo("1");
            }

            ConnectorRun backfill = f.read();
            assertThat(backfill.exitCode()).as(backfill.toString()).isZero();
            assertThat(f.scalar("SELECT count(*) FROM pg_publication WHERE pubname = " + lit(publication))).isEqualTo("1");
            for (String[] t : TABLES) {
                List<JsonNode> rows = recordsOf(backfill, t);
                assertThat(rows).as(t[1]).hasSize(2);
                for (JsonNode r : rows) {
                    assertRow(r.get("data"), r.at("/data/select").asInt());
                }
            }

            for (String[] t : TABLES) {
                String table = q(t[0]) + "." + q(t[1]);
                f.sql(insert(t[0], t[1], 3),
                        "UPDATE " + table + " SET " + q("a;b") + " = " + lit(value("a;b", 1)) + ", \"ʻokina\" = 1 WHERE "
                                + q("select") + " = 1",
                        "DELETE FROM " + table + " WHERE " + q("select") + " = 2");
            }
            ConnectorRun changes = f.read();
            assertThat(changes.exitCode()).as(changes.toString()).isZero();
            for (String[] t : TABLES) {
                Map<Integer, JsonNode> byId = new TreeMap<>();
                for (JsonNode r : recordsOf(changes, t)) {
                    byId.put(r.at("/data/select").asInt(), r.get("data"));
                }
                assertThat(byId.keySet()).as(t[1]).containsExactly(1, 2, 3);
                assertRow(byId.get(1), 1);
                assertRow(byId.get(3), 3);
                assertThat(byId.get(2).get("_ab_cdc_deleted_at").isNull()).as("row 2 of " + t[1] + " is a delete").isFalse();
                assertThat(byId.get(1).get("_ab_cdc_deleted_at").isNull()).isTrue();
            }
        }
    }

    private static List<JsonNode> recordsOf(ConnectorRun run, String[] table) {
        return run.records().stream()
                .filter(r -> r.path("namespace").asText().equals(table[0]) && r.path("stream").asText().equals(table[1]))
                .toList();
    }

    private static void assertRow(JsonNode data, int id) {
        for (String c : COLUMNS) {
            if (c.equals("select")) {
                assertThat(data.get(c).asInt()).isEqualTo(id);
            } else {
                assertThat(data.get(c)).as(c).isNotNull();
                assertThat(data.get(c).asText()).as(c).isEqualTo(value(c, id));
            }
        }
        assertThat(data.get("ʻokina").asInt()).isEqualTo(id);
    }
}
