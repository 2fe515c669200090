package io.sourcepostgres.capture;

import static org.assertj.core.api.Assertions.assertThat;

import io.sourcepostgres.testing.Await;
import io.sourcepostgres.testing.CaptureFixture;
import io.sourcepostgres.testing.ConnectorProcess;
import io.sourcepostgres.testing.ConnectorRun;
import io.sourcepostgres.testing.Destination;
import io.sourcepostgres.testing.MixedWorkload;
import io.sourcepostgres.testing.Orchestrator;
import io.sourcepostgres.testing.PostgresCluster;
import io.sourcepostgres.testing.PostgresExtension;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The server stops, crashes or cuts the replication session while a run is streaming: the run ends —
 * promptly, never hanging, and never holding up the server's own shutdown — with a {@code transient_error}
 * and a non-zero exit, and the next run, from the last state emitted, loses nothing (the destination fed
 * by all runs equals the source).
 */
@ExtendWith(PostgresExtension.class)
class ServerRestartIT {
    private static final Duration RUN_TIMEOUT = Duration.ofSeconds(120);
    /** How long a run may take to notice that its server went away. */
    private static final Duration FAILURE_TIMEOUT = Duration.ofSeconds(60);

    /** A capture on its own server, its destination on the shared one. */
    private record Setup(CaptureFixture source, Destination destination, Orchestrator orchestrator, MixedWorkload workload,
            String[] tables) {}

    private static Setup setUp(PostgresCluster server, PostgresCluster shared) {
        CaptureFixture f = new CaptureFixture(server);
        Destination destination = new Destination(shared, shared.createDatabase("dest"));
        MixedWorkload.captureInto(f, destination);
        Orchestrator orchestrator = new Orchestrator(f, destination, MixedWorkload.keyColumns());
        orchestrator.run(RUN_TIMEOUT); // creates the slot
        String[] tables = MixedWorkload.TABLES.values().stream().map(MixedWorkload.Table::qualified).toArray(String[]::new);
        return new Setup(f, destination, orchestrator, new MixedWorkload(server, f.database), tables);
    }

    private static void assertFailedTransiently(ConnectorRun run) {
        assertThat(run.exitCode()).as(run.toString()).isNotZero();
        assertThat(run.error().get("failure_type").asText()).as(run.toString()).isEqualTo("transient_error");
        assertThat(run.traces("STREAM_STATUS").stream().map(t -> t.at("/stream_status/status").asText()))
                .contains("INCOMPLETE");
    }

    /** Lets the writers commit a little on the restarted server, stops them, and checks the next run catches up. */
    private static void resumeAndCompare(Setup s, MixedWorkload.Writers writers) throws InterruptedException {
        long committed = writers.committed();
        Await.until("50 commits of the writers after the restart", Duration.ofSeconds(60),
                () -> writers.committed() >= committed + 50);
        writers.stop();
        s.source().config().put("tail", false);
        ConnectorRun next = s.orchestrator().run(RUN_TIMEOUT);
        assertThat(next.records()).isNotEmpty();
        s.orchestrator().assertDestinationEqualsSource(s.tables());
    }

    @Test
    void aFastShutdownWhileTailingEndsTheRunAndDoesNotHoldTheShutdown(PostgresCluster shared) throws Exception {
        try (PostgresCluster server = PostgresCluster.start()) {
            Setup s = setUp(server, shared);
            try (CaptureFixture f = s.source(); MixedWorkload.Writers writers = s.workload().startWriters(2, 7, 2)) {
                f.config().put("tail", true);
                try (ConnectorProcess p = s.orchestrator().start()) {
                    // Changes are flowing: records of several of the writers' transactions have come through.
                    p.awaitCount(m -> m.path("type").asText().equals("RECORD"), 20, RUN_TIMEOUT, "RECORDs");

                    // A logical walsender waits for its client to confirm all it sent before the server may stop,
                    // which this connector never does within a run: held up by the run, the shutdown would never
                    // end, and pg_ctl gives up after its 60 s (-t 60), which fails stop(). The run must let go.
                    server.stop();

                    ConnectorRun failed = p.finish(FAILURE_TIMEOUT);
                    assertFailedTransiently(failed);
                    assertThat(failed.records()).isNotEmpty();
                    s.orchestrator().accept(failed);
                }
                server.restart();
                resumeAndCompare(s, writers);
            }
        }
    }

    @Test
    void aCrashDuringALongReadEndsTheRunAndTheNextRunLosesNothing(PostgresCluster shared) throws Exception {
        try (PostgresCluster server = PostgresCluster.start()) {
            Setup s = setUp(server, shared);
            CaptureFixture f = s.source();
            try (f) {
                // A backlog the run needs a while to stream: writers' changes amid heavy writes to an uncaptured table.
                try (MixedWorkload.Writers writers = s.workload().startWriters(2, 11, 2)) {
                    for (int i = 0; i < 5; i++) {
                        f.sql("INSERT INTO noise (v) SELECT repeat('x', 100) FROM generate_series(1, 100000)");
                    }
                    try (ConnectorProcess p = s.orchestrator().start()) {
                        p.await(m -> m.path("type").asText().equals("RECORD"), RUN_TIMEOUT, "RECORD");
                        server.stopImmediate(); // like a crash: no checkpoint, sessions cut
                        ConnectorRun failed = p.finish(FAILURE_TIMEOUT);
                        assertFailedTransiently(failed);
                        s.orchestrator().accept(failed);
                    }
                    server.restart();
                    resumeAndCompare(s, writers);
                }
            }
        }
    }

    @Test
    void aReplicationSessionTerminatedByAnAdministratorEndsTheRunAndTheNextRunLosesNothing(PostgresCluster shared)
            throws Exception {
        try (PostgresCluster server = PostgresCluster.start()) {
            Setup s = setUp(server, shared);
            try (CaptureFixture f = s.source(); MixedWorkload.Writers writers = s.workload().startWriters(2, 13, 2)) {
                f.config().put("tail", true);
                try (ConnectorProcess p = s.orchestrator().start()) {
                    p.await(m -> m.path("type").asText().equals("RECORD"), RUN_TIMEOUT, "RECORD");
                    f.sql("SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = '" + f.slot + "'");
                    ConnectorRun failed = p.finish(FAILURE_TIMEOUT);
                    assertFailedTransiently(failed);
                    s.orchestrator().accept(failed);
                }
                resumeAndCompare(s, writers);
            }
        }
    }
}
