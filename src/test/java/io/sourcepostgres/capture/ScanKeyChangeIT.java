package io.sourcepostgres.capture;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcepostgres.testing.CaptureFixture;
import io.sourcepostgres.testing.ConnectorRun;
import io.sourcepostgres.testing.PostgresCluster;
import io.sourcepostgres.testing.PostgresExtension;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A backfill's resume value belongs to the scan key it was taken under. When the key changes between runs while
 * a backfill is in progress, the stream's backfill starts over (with a WARN) instead of resuming at an unrelated
 * place and skipping rows.
 */
@ExtendWith(PostgresExtension.class)
class ScanKeyChangeIT {

    /** The state after the first backfill chunk of a run that backfilled {@code t} in chunks of 100. */
    private static JsonNode stateAfterFirstChunk(CaptureFixture f) {
        f.config().put("backfill_chunk_size", 100);
        ConnectorRun run = f.read();
        assertThat(run.exitCode()).as(run.toString()).isZero();
        for (JsonNode state : run.states()) {
            JsonNode stream = state.at("/global/stream_states/0/stream_state");
            if ("backfilling".equals(stream.path("phase").asText())) {
                return state; // a run killed right after this state leaves exactly this behind
            }
        }
        throw new AssertionError("no state in the middle of the backfill: " + run);
    }

    private static Set<Integer> ids(ConnectorRun run) {
        Set<Integer> ids = new TreeSet<>();
        run.records().forEach(r -> ids.add(r.at("/data/id").asInt()));
        return ids;
    }

    @Test
    void aScanKeyChangedInTheMiddleOfABackfillStartsItOver(PostgresCluster pg) {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            // u orders the rows the other way round from id: resuming at u > 100 would skip ids 401..500.
            f.sql("CREATE TABLE t (id int PRIMARY KEY, u int NOT NULL UNIQUE, v text)", "ALTER TABLE t REPLICA IDENTITY FULL",
                    "INSERT INTO t SELECT g, 501 - g, 'r' || g FROM generate_series(1, 500) g");
            f.capture("public", "t");
            JsonNode midway = stateAfterFirstChunk(f);

            f.setState(midway);
            f.primaryKey("t", "u");
            ConnectorRun resumed = f.read();
            assertThat(resumed.exitCode()).as(resumed.toString()).isZero();
            assertThat(ids(resumed)).as("every row, none skipped").hasSize(500);
            assertThat(resumed.stdout()).contains("The backfill of public.t starts over from its first row");
            assertThat(midway.at("/global/stream_states/0/stream_state/scan_key/0/column").asText()).isEqualTo("id");
        }
    }

    @Test
    void aStateWithoutARecordedKeyResumesWhenItsValueFitsTheKey(PostgresCluster pg) {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            f.sql("CREATE TABLE t (id int PRIMARY KEY, v text)",
                    "INSERT INTO t SELECT g, 'r' || g FROM generate_series(1, 500) g");
            f.capture("public", "t");
            JsonNode midway = stateAfterFirstChunk(f).deepCopy();
            ObjectNode stream = (ObjectNode) midway.at("/global/stream_states/0/stream_state");
            stream.remove("scan_key"); // as a state written before the key was recorded
            f.setState(midway);
            ConnectorRun resumed = f.read();
            assertThat(resumed.exitCode()).as(resumed.toString()).isZero();
            assertThat(ids(resumed)).as("resumed after the first chunk").hasSize(400).doesNotContain(1, 100)
                    .contains(101, 500);
            assertThat(resumed.stdout()).doesNotContain("starts over");
        }
    }

    @Test
    void aStateWithoutARecordedKeyWhoseValueDoesNotFitStartsOver(PostgresCluster pg) {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            f.sql("CREATE TABLE t (id int PRIMARY KEY, u int NOT NULL, v text)", "CREATE UNIQUE INDEX ON t (id, u)",
                    "ALTER TABLE t REPLICA IDENTITY FULL",
                    "INSERT INTO t SELECT g, g, 'r' || g FROM generate_series(1, 500) g");
            f.capture("public", "t");
            JsonNode midway = stateAfterFirstChunk(f).deepCopy();
            ((ObjectNode) midway.at("/global/stream_states/0/stream_state")).remove("scan_key");
            f.setState(midway);
            f.primaryKey("t", "id", "u");
            ConnectorRun resumed = f.read();
            assertThat(resumed.exitCode()).as(resumed.toString()).isZero();
            assertThat(ids(resumed)).hasSize(500);
            assertThat(resumed.stdout()).contains("starts over", "has 1 column(s) but the scan key [id, u] has 2");
        }
    }

}
