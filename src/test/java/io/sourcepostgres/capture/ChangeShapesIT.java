package io.sourcepostgres.capture;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcepostgres.testing.CaptureFixture;
import io.sourcepostgres.testing.ConnectorRun;
import io.sourcepostgres.testing.PostgresCluster;
import io.sourcepostgres.testing.PostgresExtension;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** What UPDATE and DELETE look like under each replica identity, key changes, TOAST, TRUNCATE and DDL. */
@ExtendWith(PostgresExtension.class)
class ChangeShapesIT {

    private static CaptureFixture withTable(PostgresCluster pg, String ddl, String table) {
        CaptureFixture f = new CaptureFixture(pg);
        f.sql(ddl);
        f.capture("public", table);
        ConnectorRun first = f.read();
        assertThat(first.exitCode()).as(first.toString()).isZero();
        return f;
    }

    private static List<JsonNode> changes(CaptureFixture f, String... sql) {
        for (String s : sql) {
            f.sql(s);
        }
        ConnectorRun run = f.read();
        assertThat(run.exitCode()).as(run.toString()).isZero();
        return run.records();
    }

    @Test
    void defaultIdentityDeletesCarryTheKeyOnly(PostgresCluster pg) {
        try (CaptureFixture f = withTable(pg, "CREATE TABLE d (id int PRIMARY KEY, name text NOT NULL, n int)", "d")) {
            List<JsonNode> r = changes(f, "INSERT INTO d VALUES (1, 'a', 10)", "UPDATE d SET n = 11 WHERE id = 1",
                    "DELETE FROM d WHERE id = 1");
            assertThat(r).hasSize(3);
            assertThat(r.get(1).at("/data/n").asInt()).isEqualTo(11);
            assertThat(r.get(1).at("/data/name").asText()).isEqualTo("a");
            JsonNode delete = r.get(2).get("data");
            assertThat(delete.get("id").asInt()).isEqualTo(1);
            assertThat(delete.has("name")).as("non-key columns are not invented as nulls").isFalse();
            assertThat(delete.get("_ab_cdc_deleted_at").isTextual()).isTrue();
        }
    }

    @Test
    void fullIdentityDeletesCarryTheWholeOldRow(PostgresCluster pg) {
        try (CaptureFixture f = withTable(pg, "CREATE TABLE full_t (id int PRIMARY KEY, name text NOT NULL)", "full_t")) {
            f.sql("ALTER TABLE full_t REPLICA IDENTITY FULL");
            List<JsonNode> r = changes(f, "INSERT INTO full_t VALUES (1, 'a')", "DELETE FROM full_t WHERE id = 1");
            assertThat(r.get(1).at("/data/name").asText()).isEqualTo("a");
            assertThat(r.get(1).at("/data/_ab_cdc_deleted_at").isTextual()).isTrue();
        }
    }

    @Test
    void usingIndexIdentityDeletesCarryTheIndexColumns(PostgresCluster pg) {
        try (CaptureFixture f = withTable(pg,
                "CREATE TABLE ui (id int PRIMARY KEY, code text NOT NULL, other text)", "ui")) {
            f.sql("CREATE UNIQUE INDEX ui_code ON ui (code)", "ALTER TABLE ui REPLICA IDENTITY USING INDEX ui_code");
            List<JsonNode> r = changes(f, "INSERT INTO ui VALUES (1, 'c1', 'x')", "DELETE FROM ui WHERE id = 1");
            JsonNode delete = r.get(1).get("data");
            assertThat(delete.get("code").asText()).isEqualTo("c1");
            assertThat(delete.has("other")).isFalse();
        }
    }

    @Test
    void nothingIdentityWarnsAtStartAndCapturesInserts(PostgresCluster pg) {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            f.sql("CREATE TABLE nothing_t (id int PRIMARY KEY, v text)", "ALTER TABLE nothing_t REPLICA IDENTITY NOTHING");
            f.capture("public", "nothing_t");
            ConnectorRun first = f.read();
            assertThat(first.ofType("LOG").stream().map(JsonNode::toString))
                    .anySatisfy(l -> assertThat(l).contains("WARN").contains("nothing_t").contains("REPLICA IDENTITY FULL"));
            List<JsonNode> r = changes(f, "INSERT INTO nothing_t VALUES (1, 'a')");
            assertThat(r).hasSize(1);
        }
    }

    @Test
    void anUpdateThatChangesThePrimaryKeyDeletesTheOldKey(PostgresCluster pg) {
        try (CaptureFixture f = withTable(pg, "CREATE TABLE k (id int PRIMARY KEY, v text)", "k")) {
            List<JsonNode> r = changes(f, "INSERT INTO k VALUES (1, 'a')", "UPDATE k SET id = 2 WHERE id = 1");
            assertThat(r).hasSize(3);
            assertThat(r.get(1).at("/data/id").asInt()).isEqualTo(1);
            assertThat(r.get(1).at("/data/_ab_cdc_deleted_at").isTextual()).isTrue();
            assertThat(r.get(2).at("/data/id").asInt()).isEqualTo(2);
            assertThat(r.get(2).at("/data/v").asText()).isEqualTo("a");
            assertThat(r.get(2).at("/data/_ab_cdc_deleted_at").isNull()).isTrue();
        }
    }

    @Test
    void anUpdateThatChangesTheKeyUnderFullIdentityDeletesTheOldKeyToo(PostgresCluster pg) {
        try (CaptureFixture f = withTable(pg, "CREATE TABLE kf (id int PRIMARY KEY, v text)", "kf")) {
            f.sql("ALTER TABLE kf REPLICA IDENTITY FULL");
            List<JsonNode> r = changes(f, "INSERT INTO kf VALUES (1, 'a')", "UPDATE kf SET v = 'b' WHERE id = 1",
                    "UPDATE kf SET id = 2 WHERE id = 1");
            assertThat(r).extracting(x -> x.at("/data/id").asInt() + ":" + !x.at("/data/_ab_cdc_deleted_at").isNull())
                    .containsExactly("1:false", "1:false", "1:true", "2:false");
        }
    }

    @Test
    void unchangedToastValuesAreNeverLostUnderDefaultIdentity(PostgresCluster pg) {
        try (CaptureFixture f = withTable(pg, "CREATE TABLE big (id int PRIMARY KEY, n int, doc text)", "big")) {
            // Random text does not compress, so 100 kB is stored out of line (TOASTed).
            String insert = "INSERT INTO big SELECT 1, 0, string_agg(md5(g::text), '') FROM generate_series(1, 3200) g";
            List<JsonNode> r = changes(f, insert, "UPDATE big SET n = 1 WHERE id = 1");
            String expected = f.scalar("SELECT doc FROM big WHERE id = 1");
            assertThat(expected).hasSize(3200 * 32);
            assertThat(r).hasSize(2);
            assertThat(r.get(1).at("/data/n").asInt()).isEqualTo(1);
            assertThat(r.get(1).at("/data/doc").asText()).isEqualTo(expected);
            assertThat(r.get(1).has("meta")).isFalse();
        }
    }

    @Test
    void unchangedToastValuesComeFromTheOldRowUnderFullIdentity(PostgresCluster pg) {
        try (CaptureFixture f = withTable(pg, "CREATE TABLE bigf (id int PRIMARY KEY, n int, doc text)", "bigf")) {
            f.sql("ALTER TABLE bigf REPLICA IDENTITY FULL");
            List<JsonNode> r = changes(f,
                    "INSERT INTO bigf SELECT 1, 0, string_agg(md5(g::text), '') FROM generate_series(1, 3200) g",
                    "UPDATE bigf SET n = 1 WHERE id = 1", "UPDATE bigf SET doc = 'small' WHERE id = 1");
            assertThat(r).hasSize(3);
            assertThat(r.get(1).at("/data/doc").asText()).hasSize(3200 * 32);
            assertThat(r.get(2).at("/data/doc").asText()).isEqualTo("small");
        }
    }

    @Test
    void unchangedToastOfARowDeletedSinceIsNeitherInventedNorLost(PostgresCluster pg) {
        try (CaptureFixture f = withTable(pg, "CREATE TABLE gone (id int PRIMARY KEY, n int, doc text)", "gone")) {
            List<JsonNode> r = changes(f,
                    "INSERT INTO gone SELECT 1, 0, string_agg(md5(g::text), '') FROM generate_series(1, 3200) g",
                    "UPDATE gone SET n = 1 WHERE id = 1", "DELETE FROM gone WHERE id = 1");
            // The update's large value cannot be read any more, and no image with a made-up value is emitted:
            // the row's history as emitted is its insert and its delete.
            assertThat(r).hasSize(2);
            assertThat(r.get(0).at("/data/doc").asText()).hasSize(3200 * 32);
            assertThat(r.get(1).at("/data/_ab_cdc_deleted_at").isTextual()).isTrue();
        }
    }

    @Test
    void truncateIsReportedWithTheTablesAndTheFix(PostgresCluster pg) {
        try (CaptureFixture f = withTable(pg, "CREATE TABLE tr (id int PRIMARY KEY)", "tr")) {
            f.sql("INSERT INTO tr VALUES (1), (2)", "TRUNCATE tr", "INSERT INTO tr VALUES (3)");
            ConnectorRun run = f.read();
            assertThat(run.exitCode()).isZero();
            assertThat(run.records()).extracting(r -> r.at("/data/id").asInt()).containsExactly(1, 2, 3);
            assertThat(run.ofType("LOG").stream().map(JsonNode::toString))
                    .anySatisfy(l -> assertThat(l).contains("WARN").contains("TRUNCATE of public.tr"));
        }
    }

    @Test
    void columnsAddedDroppedRenamedAndRetypedWhileStreamingShapeTheRecords(PostgresCluster pg) {
        try (CaptureFixture f = withTable(pg, "CREATE TABLE ddl (id int PRIMARY KEY, a int, b text)", "ddl")) {
            ConnectorRun run;
            f.sql("INSERT INTO ddl VALUES (1, 10, 'x')",
                    "ALTER TABLE ddl ADD COLUMN c numeric", "INSERT INTO ddl VALUES (2, 20, 'y', 2.5)",
                    "ALTER TABLE ddl DROP COLUMN b", "INSERT INTO ddl VALUES (3, 30, 3.5)",
                    "ALTER TABLE ddl RENAME COLUMN a TO a2", "INSERT INTO ddl VALUES (4, 40, 4.5)",
                    "ALTER TABLE ddl ALTER COLUMN a2 TYPE text", "INSERT INTO ddl VALUES (5, 'fifty', 5.5)");
            run = f.read();
            assertThat(run.exitCode()).as(run.toString()).isZero();
            List<JsonNode> r = run.records();
            assertThat(r).hasSize(5);
            assertThat(fieldNames(r.get(0))).containsExactly("id", "a", "b");
            assertThat(fieldNames(r.get(1))).containsExactly("id", "a", "b", "c");
            assertThat(fieldNames(r.get(2))).containsExactly("id", "a", "c");
            assertThat(fieldNames(r.get(3))).containsExactly("id", "a2", "c");
            assertThat(r.get(4).at("/data/a2").asText()).isEqualTo("fifty");
            assertThat(r.get(3).at("/data/a2").isInt()).isTrue();
            long schemaWarnings = run.ofType("LOG").stream()
                    .filter(l -> l.toString().contains("columns of public.ddl changed")).count();
            assertThat(schemaWarnings).isEqualTo(4);
        }
    }

    @Test
    void aTableAddedToThePublicationWhileCapturingFlowsFromThen(PostgresCluster pg) {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            f.sql("CREATE TABLE first_t (id int PRIMARY KEY)", "CREATE TABLE later_t (id int PRIMARY KEY)",
                    "CREATE PUBLICATION " + f.publication + " FOR TABLE first_t");
            f.capture("public", "first_t").capture("public", "later_t");
            ConnectorRun first = f.read();
            assertThat(first.exitCode()).as(first.toString()).isZero();
            assertThat(first.ofType("LOG").stream().map(JsonNode::toString))
                    .anySatisfy(l -> assertThat(l).contains("later_t").contains("ALTER PUBLICATION"));
            f.sql("INSERT INTO later_t VALUES (1)", "ALTER PUBLICATION " + f.publication + " ADD TABLE later_t",
                    "INSERT INTO later_t VALUES (2)", "INSERT INTO first_t VALUES (3)");
            ConnectorRun run = f.read();
            assertThat(run.records()).extracting(r -> r.get("stream").asText() + r.at("/data/id").asInt())
                    .containsExactly("later_t2", "first_t3");
        }
    }

    private static List<String> fieldNames(JsonNode record) {
        java.util.List<String> names = new java.util.ArrayList<>();
        record.get("data").fieldNames().forEachRemaining(n -> {
            if (!n.startsWith("_ab_cdc_")) {
                names.add(n);
            }
        });
        return names;
    }
}
