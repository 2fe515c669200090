package io.sourcepostgres.capture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcepostgres.testing.CaptureFixture;
import io.sourcepostgres.testing.ConnectorRun;
import io.sourcepostgres.testing.PostgresCluster;
import io.sourcepostgres.testing.PostgresExtension;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A stored generated column is in a record only when pgoutput sends it (PostgreSQL 18 with
 * {@code publish_generated_columns = stored}), so a backfilled row and a replicated row of the same table
 * always have the same fields; a full-refresh stream, never replicated, keeps it. A generated column in the
 * stream's key is refused unless pgoutput sends it: records must always carry their whole key.
 */
@ExtendWith(PostgresExtension.class)
class GeneratedColumnsIT {
    private static final String TABLE = "CREATE TABLE gen (id int PRIMARY KEY, a int, "
            + "g int GENERATED ALWAYS AS (a * 2) STORED, b text)";

    private static List<String> fields(JsonNode record) {
        List<String> names = new ArrayList<>();
        record.get("data").fieldNames().forEachRemaining(names::add);
        return names;
    }

    /** Backfills one row, replicates another, returns both records. */
    private static List<JsonNode> backfillThenReplicate(CaptureFixture f) {
        f.sql("INSERT INTO gen (id, a, b) VALUES (1, 21, 'x')");
        f.capture("public", "gen");
        ConnectorRun first = f.read();
        assertThat(first.exitCode()).as(first.toString()).isZero();
        f.sql("INSERT INTO gen (id, a, b) VALUES (2, 21, 'x')");
        ConnectorRun second = f.read();
        assertThat(second.exitCode()).as(second.toString()).isZero();
        assertThat(first.records()).hasSize(1);
        assertThat(second.records()).hasSize(1);
        return List.of(first.records().get(0), second.records().get(0));
    }

    @Test
    void withoutPublishedGeneratedColumnsBothPathsLeaveThemOut(PostgresCluster pg) {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            f.sql(TABLE);
            List<JsonNode> records = backfillThenReplicate(f);
            List<String> expected = List.of("id", "a", "b", "_ab_cdc_lsn", "_ab_cdc_updated_at", "_ab_cdc_deleted_at");
            assertThat(fields(records.get(0))).as("backfilled").isEqualTo(expected);
            assertThat(fields(records.get(1))).as("replicated").isEqualTo(expected);
        }
    }

    @Test
    void onPostgres18APublicationWithStoredGeneratedColumnsGivesThemOnBothPaths(PostgresCluster pg) {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            f.sql(TABLE);
            String create = "CREATE PUBLICATION " + f.publication + " FOR ALL TABLES WITH (publish_generated_columns = stored)";
            if (pg.majorVersion() < 18) {
                // Before 18 no publication can send them: the option does not exist.
                assertThatThrownBy(() -> f.sql(create)).hasMessageContaining("publish_generated_columns");
                return;
            }
            f.sql(create);
            List<JsonNode> records = backfillThenReplicate(f);
            List<String> expected = List.of("id", "a", "g", "b", "_ab_cdc_lsn", "_ab_cdc_updated_at", "_ab_cdc_deleted_at");
            assertThat(fields(records.get(0))).as("backfilled").isEqualTo(expected);
            assertThat(fields(records.get(1))).as("replicated").isEqualTo(expected);
            assertThat(records.get(1).at("/data/g").asInt()).isEqualTo(42);
        }
    }

    @Test
    void aFullRefreshStreamKeepsGeneratedColumns(PostgresCluster pg) {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            f.sql(TABLE, "INSERT INTO gen (id, a, b) VALUES (1, 21, 'x')");
            f.capture("public", "gen").fullRefresh("gen");
            ConnectorRun run = f.read();
            assertThat(run.exitCode()).as(run.toString()).isZero();
            assertThat(run.records()).hasSize(1);
            assertThat(run.records().get(0).at("/data/g").asInt()).isEqualTo(42);
        }
    }

    private static final String KEYED = "CREATE TABLE gk (a int, b int GENERATED ALWAYS AS (a / 2) STORED, v int, "
            + "PRIMARY KEY (a, b))";

    @Test
    void aKeyWithAGeneratedColumnThatReplicationDoesNotSendIsRefusedNamingTheFix(PostgresCluster pg) {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            f.sql(KEYED, "INSERT INTO gk (a, v) VALUES (1, 0), (2, 0)");
            f.capture("public", "gk");
            ConnectorRun refused = f.read();
            assertThat(refused.exitCode()).as(refused.toString()).isNotZero();
            JsonNode error = refused.error();
            assertThat(error.get("failure_type").asText()).isEqualTo("config_error");
            assertThat(error.get("message").asText()).contains("gk", "generated column [b]", "full_refresh");
            if (pg.majorVersion() >= 18) {
                // PostgreSQL 18 itself refuses UPDATE and DELETE on such a table while the publication does not
                // send the column: publishing it is the fix (the test below).
                assertThat(error.get("message").asText()).contains("publish_generated_columns = stored");
                return;
            }
            assertThat(error.get("message").asText()).contains(
                    "CREATE UNIQUE INDEX ON \"public\".\"gk\" (\"a\")", "[[\"a\"]]");

            // The fix that works on every version: a unique index on the other key columns, and those as the key.
            f.sql("CREATE UNIQUE INDEX ON gk (a)");
            f.primaryKey("gk", "a");
            ConnectorRun backfill = f.read();
            assertThat(backfill.exitCode()).as(backfill.toString()).isZero();
            f.sql("UPDATE gk SET v = 1 WHERE a = 1", "DELETE FROM gk WHERE a = 2");
            ConnectorRun replicated = f.read();
            assertThat(replicated.exitCode()).as(replicated.toString()).isZero();
            List<JsonNode> all = new ArrayList<>(backfill.records());
            all.addAll(replicated.records());
            // both paths agree on the fields; every record carries its key
            for (JsonNode r : all) {
                assertThat(r.at("/data/a").isInt()).as("key a in %s", r).isTrue();
            }
            assertThat(fields(backfill.records().get(0))).isEqualTo(fields(replicated.records().get(0)));
            assertThat(io.sourcepostgres.testing.AppliedRecords.apply(all, d -> d.get("a").asText()).keySet())
                    .containsExactly("1");
        }
    }

    @Test
    void onPostgres18AGeneratedKeyColumnIsReplicatedWhenThePublicationSendsIt(PostgresCluster pg) {
        if (pg.majorVersion() < 18) {
            return; // publish_generated_columns does not exist before 18
        }
        try (CaptureFixture f = new CaptureFixture(pg)) {
            f.sql(KEYED, "INSERT INTO gk (a, v) VALUES (1, 0), (2, 0)",
                    "CREATE PUBLICATION " + f.publication + " FOR ALL TABLES WITH (publish_generated_columns = stored)");
            f.capture("public", "gk");
            ConnectorRun backfill = f.read();
            assertThat(backfill.exitCode()).as(backfill.toString()).isZero();
            f.sql("UPDATE gk SET v = 1 WHERE a = 1", "UPDATE gk SET a = 5 WHERE a = 2", "DELETE FROM gk WHERE a = 1");
            ConnectorRun replicated = f.read();
            assertThat(replicated.exitCode()).as(replicated.toString()).isZero();
            List<JsonNode> all = new ArrayList<>(backfill.records());
            all.addAll(replicated.records());
            for (JsonNode r : all) {
                assertThat(r.at("/data/a").isInt() && r.at("/data/b").isInt()).as("whole key in %s", r).isTrue();
            }
            assertThat(io.sourcepostgres.testing.AppliedRecords.apply(all,
                    d -> d.get("a").asText() + "|" + d.get("b").asText()).keySet()).containsExactly("5|2");
        }
    }
}
