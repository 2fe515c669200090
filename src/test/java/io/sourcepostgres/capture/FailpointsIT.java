package io.sourcepostgres.capture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcepostgres.failpoints.Failpoints;
import io.sourcepostgres.testing.CaptureFixture;
import io.sourcepostgres.testing.ConnectorProcess;
import io.sourcepostgres.testing.ConnectorRun;
import io.sourcepostgres.testing.Destination;
import io.sourcepostgres.testing.MixedWorkload;
import io.sourcepostgres.testing.Orchestrator;
import io.sourcepostgres.testing.PostgresCluster;
import io.sourcepostgres.testing.PostgresExtension;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The real launcher crashed exactly at each named failpoint ({@link Failpoints}) while writers keep writing:
 * the orchestrator keeps what the crashed run wrote up to its last STATE, resumes from that state, and in
 * the end the applied output equals the tables, with no key's {@code _ab_cdc_lsn} ever going back.
 *
 * <p>Every crashed run starts without state from a slot made beforehand, so that it backfills (in small
 * chunks) while it streams the seed's changes, the writers' and one transaction large enough to be streamed
 * in progress (protocol 2, PostgreSQL 14 on): each point is reached in the same run.
 */
@ExtendWith(PostgresExtension.class)
class FailpointsIT {
    private static final Duration RUN_TIMEOUT = Duration.ofSeconds(180);
    private static final long SEED = Long.getLong("workload.seed", 20261206L);
    private static final String[] TABLES =
            MixedWorkload.TABLES.values().stream().map(MixedWorkload.Table::qualified).toArray(String[]::new);

    @Test
    void haltAfterAStateWasWritten(PostgresCluster pg) {
        ConnectorRun crashed = crashAndResume(pg, Failpoints.AFTER_STATE_WRITTEN, 3);
        List<String> types = crashed.messages().stream().map(m -> m.path("type").asText()).toList();
        assertThat(types.get(types.size() - 1)).as("the crashed run's last line is the STATE it halted after")
                .isEqualTo("STATE");
        assertThat(crashed.states()).hasSize(3);
    }

    @Test
    void haltInTheMiddleOfAChunksRows(PostgresCluster pg) {
        crashAndResume(pg, Failpoints.MID_CHUNK_EMIT, 3);
    }

    @Test
    void haltBetweenAFenceAndItsChunksRows(PostgresCluster pg) {
        crashAndResume(pg, Failpoints.BETWEEN_FENCE_AND_CHUNK_ROWS, 3);
    }

    @Test
    void haltInTheMiddleOfAStreamedTransaction(PostgresCluster pg) {
        assumeTrue(pg.majorVersion() >= 14, "pgoutput streams in-progress transactions from PostgreSQL 14 on");
        crashAndResume(pg, Failpoints.MID_STREAMED_TRANSACTION, 500);
    }

    @Test
    void haltBeforeTheSlotIsConfirmed(PostgresCluster pg) {
        ConnectorRun crashed = crashAndResume(pg, Failpoints.BEFORE_SLOT_CONFIRM, 1);
        assertThat(crashed.records()).isEmpty();
        assertThat(crashed.states()).isEmpty();
    }

    /** A failpoint switched on with 'throw' ends the run with a TRACE ERROR, every line of stdout whole. */
    @Test
    void aThrowingFailpointEndsTheRunWithATraceError(PostgresCluster pg) {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            Destination destination = new Destination(pg, pg.createDatabase("dest"));
            MixedWorkload.captureInto(f, destination);
            f.config().put("backfill_chunk_size", 100);
            new MixedWorkload(pg, f.database).transactions(200, SEED);
            try (ConnectorProcess p = ConnectorProcess.builder(f.args())
                    .env(Failpoints.ENVIRONMENT, Failpoints.MID_CHUNK_EMIT + "=throw@2").start()) {
                ConnectorRun run = p.finish(RUN_TIMEOUT); // every stdout line was parsed and validated
                assertThat(run.exitCode()).as("%s", run).isNotZero();
                assertThat(run.error().get("failure_type").asText()).isEqualTo("system_error");
                assertThat(run.error().get("internal_message").asText()).contains(Failpoints.MID_CHUNK_EMIT);
                assertThat(run.traces("STREAM_STATUS")).extracting(t -> t.at("/stream_status/status").asText())
                        .contains("INCOMPLETE");
            }
        }
    }

    /**
     * Seeds the tables, starts writers, runs the launcher with {@code failpoint=halt@hit} until it halts
     * there, then resumes from the crashed run's last state until caught up. Returns the crashed run.
     */
    private static ConnectorRun crashAndResume(PostgresCluster pg, String failpoint, int hit) {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            Destination destination = new Destination(pg, pg.createDatabase("dest"));
            MixedWorkload.captureInto(f, destination);
            f.config().put("backfill_chunk_size", 100);
            f.sql("ALTER DATABASE \"" + f.database + "\" SET logical_decoding_work_mem = '64kB'");
            f.createPublicationAndSlot();
            MixedWorkload workload = new MixedWorkload(pg, f.database);
            workload.transactions(300, SEED);
            // One transaction far above logical_decoding_work_mem: streamed while in progress, replayed at commit.
            f.sql("INSERT INTO public.tags SELECT 'bulk-' || g, repeat('x', 300), g FROM generate_series(1, 2000) g");
            Orchestrator orchestrator = new Orchestrator(f, destination, MixedWorkload.keyColumns());

            ConnectorRun crashed;
            try (MixedWorkload.Writers writers = workload.startWriters(2, SEED, 3)) {
                try (ConnectorProcess p = ConnectorProcess.builder(f.args())
                        .env(Failpoints.ENVIRONMENT, failpoint + "=halt@" + hit).start()) {
                    crashed = orchestrator.accept(p.finish(RUN_TIMEOUT));
                }
                assertThat(crashed.exitCode()).as("the run halts at %s: %s", failpoint, crashed)
                        .isEqualTo(Failpoints.HALT_EXIT_CODE);
                assertThat(crashed.stderr()).contains("failpoint " + failpoint + " halts");
                assertThat(crashed.traces("ERROR")).as("a halt says nothing more").isEmpty();
                // Resume from the last state that reached stdout while the writers go on.
                orchestrator.run(RUN_TIMEOUT);
                writers.stop();
            }
            orchestrator.run(RUN_TIMEOUT);
            orchestrator.assertDestinationEqualsSource(TABLES);
            JsonNode last = f.state();
            assertThat(last).isNotNull();
            return crashed;
        }
    }
}
