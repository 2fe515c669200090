package io.sourcepostgres.capture;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcepostgres.testing.Await;
import io.sourcepostgres.testing.CaptureFixture;
import io.sourcepostgres.testing.ConnectorProcess;
import io.sourcepostgres.testing.ConnectorRun;
import io.sourcepostgres.testing.PostgresCluster;
import io.sourcepostgres.testing.PostgresExtension;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** With tail, read streams until stopped; SIGTERM ends it cleanly after a final STATE. */
@ExtendWith(PostgresExtension.class)
class TailIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @Test
    void streamsLiveChangesUntilSigtermThenEndsWithAFinalState(PostgresCluster pg) throws Exception {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            f.sql("CREATE TABLE live (id int PRIMARY KEY, note text)");
            f.capture("public", "live");
            assertThat(f.read().exitCode()).isZero();
            f.config().put("tail", true);

            try (ConnectorProcess p = ConnectorProcess.builder(f.args()).start()) {
                p.await(m -> m.get("type").asText().equals("TRACE") && m.toString().contains("RUNNING"), TIMEOUT,
                        "TRACE RUNNING");
                for (int i = 1; i <= 5; i++) {
                    f.sql("INSERT INTO live VALUES (" + i + ", 'live " + i + "')");
                }
                p.awaitCount(m -> m.get("type").asText().equals("RECORD"), 5, TIMEOUT, "RECORDs");
                assertThat(p.isAlive()).as("a tailing read keeps running when caught up").isTrue();

                // SIGTERM alone: Process.destroy() would also close our end of its stdout, and the final STATE
                // would meet a closed pipe (which fails the run, as it must).
                p.terminate();
                ConnectorRun run = p.finish(TIMEOUT);
                assertThat(run.exitCode()).as(run.toString()).isZero();
                List<JsonNode> records = run.records();
                assertThat(records).extracting(r -> r.at("/data/id").asInt()).containsExactly(1, 2, 3, 4, 5);
                JsonNode last = run.states().get(run.states().size() - 1);
                long finalPosition = CaptureFixture.lsn(last.at("/global/shared_state/position").asText());
                long lastRecordLsn = records.get(4).at("/data/_ab_cdc_lsn").asLong();
                assertThat(Long.compareUnsigned(finalPosition, lastRecordLsn)).isPositive();
                f.setState(last);
            }

            // The next run resumes after everything the tailing run emitted.
            f.config().put("tail", false);
            f.sql("INSERT INTO live VALUES (6, 'after')");
            assertThat(f.read().records()).extracting(r -> r.at("/data/id").asInt()).containsExactly(6);
        }
    }

    @Test
    void aReaderThatGoesAwayEndsATailingRun(PostgresCluster pg) throws Exception {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            f.sql("CREATE TABLE gone (id int PRIMARY KEY)");
            f.capture("public", "gone");
            f.config().put("tail", true);
            try (ConnectorProcess p = ConnectorProcess.builder(f.args()).start()) {
                p.await(m -> m.get("type").asText().equals("TRACE") && m.toString().contains("RUNNING"), TIMEOUT,
                        "TRACE RUNNING");
                p.closeStdout(); // the orchestrator is gone: nobody reads stdout any more
                // Until the process ends, each check of it first gives the run output to write.
                int[] next = {1};
                Await.until("the run to end after its reader went away", TIMEOUT, () -> {
                    if (!p.isAlive()) {
                        return true;
                    }
                    f.sql("INSERT INTO gone VALUES (" + next[0]++ + ")");
                    return false;
                });
                assertThat(p.isAlive()).as("a tailing run whose stdout is closed must end, not stream into nowhere "
                        + "while holding its slot").isFalse();
                assertThat(p.finish(TIMEOUT).exitCode()).isNotZero();
            }
        }
    }
}
