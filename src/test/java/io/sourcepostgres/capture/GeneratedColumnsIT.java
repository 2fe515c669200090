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
 * always have the same fields; a full-refresh stream, never replicated, keeps it.
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
}
