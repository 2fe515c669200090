package io.sourcepostgres.capture;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcepostgres.testing.Await;
import io.sourcepostgres.testing.CaptureFixture;
import io.sourcepostgres.testing.ConnectorProcess;
import io.sourcepostgres.testing.ConnectorRun;
import io.sourcepostgres.testing.Destination;
import io.sourcepostgres.testing.FaultProxy;
import io.sourcepostgres.testing.MixedWorkload;
import io.sourcepostgres.testing.Orchestrator;
import io.sourcepostgres.testing.PostgresCluster;
import io.sourcepostgres.testing.PostgresExtension;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The network between connector and server fails while a run is backfilling or streaming — every
 * connection cut, every connection stalled (open but silent), new connections refused — with the
 * connector's connectionURI pointing at a {@link FaultProxy}. Each run that meets a fault ends (a run that
 * has not ended by a generous deadline fails the test as a hang) with a {@code transient_error} and a
 * non-zero exit, and the next run, from the last state emitted, loses nothing: the destination fed by all
 * runs equals the source. No test asserts how fast anything was: bench/ measures speed.
 */
@ExtendWith(PostgresExtension.class)
class FaultsIT {
    private static final Duration RUN_TIMEOUT = Duration.ofSeconds(120);
    private static final Duration CATCH_UP_TIMEOUT = Duration.ofMinutes(5);
    /** A cut is seen at once; a stall within silence (5 s) + probe timeout (10 s) + closing (15 s) with status_interval 1 s. */
    private static final Duration FAILURE_TIMEOUT = Duration.ofSeconds(60);
    private static final String[] TABLES =
            MixedWorkload.TABLES.values().stream().map(MixedWorkload.Table::qualified).toArray(String[]::new);

    private record Setup(CaptureFixture source, FaultProxy proxy, Orchestrator orchestrator, MixedWorkload workload)
            implements AutoCloseable {
        @Override
        public void close() {
            proxy.close();
            source.close();
        }
    }

    /** A capture whose connector reaches the server through a proxy; {@code backfillRows} rows to backfill first. */
    private static Setup setUp(PostgresCluster pg, int backfillRows) {
        CaptureFixture f = new CaptureFixture(pg);
        Destination destination = new Destination(pg, pg.createDatabase("dest"));
        MixedWorkload.captureInto(f, destination);
        if (backfillRows > 0) {
            f.sql("INSERT INTO accounts (id, owner, balance, doc, updated) SELECT -g, 'owner ' || g, g % 1000, "
                    + "repeat('d', 200), now() FROM generate_series(1, " + backfillRows + ") g");
        }
        FaultProxy proxy = FaultProxy.to(pg.port());
        f.config().put("connectionURI", f.config().get("connectionURI").asText()
                .replace("127.0.0.1:" + pg.port() + "/", "127.0.0.1:" + proxy.port() + "/"));
        f.config().put("status_interval_seconds", 1);
        f.config().put("statement_timeout_seconds", 5);
        f.config().put("backfill_chunk_size", 500);
        return new Setup(f, proxy, new Orchestrator(f, destination, MixedWorkload.keyColumns()), new MixedWorkload(pg, f.database));
    }

    /** The run ends by itself, a transient error; {@code finish} fails the test if it has not by FAILURE_TIMEOUT. */
    private static ConnectorRun assertFailsTransiently(ConnectorProcess p, Orchestrator orchestrator) {
        ConnectorRun failed = p.finish(FAILURE_TIMEOUT);
        assertThat(failed.exitCode()).as(failed.toString()).isNotZero();
        assertThat(failed.error().get("failure_type").asText()).as(failed.toString()).isEqualTo("transient_error");
        assertThat(failed.traces("STREAM_STATUS").stream().map(t -> t.at("/stream_status/status").asText()))
                .contains("INCOMPLETE");
        orchestrator.accept(failed);
        return failed;
    }

    /**
     * Stops the writers, then a clean run catches up and the destination must equal the source. The
     * catch-up (the rest of a backfill and every change written meanwhile) is slow on a loaded machine,
     * and it is no fault being detected: it gets a generous bound.
     */
    private static void finishCleanly(Setup s, MixedWorkload.Writers writers) {
        writers.stop();
        s.source().config().put("tail", false);
        s.orchestrator().run(CATCH_UP_TIMEOUT);
        s.orchestrator().assertDestinationEqualsSource(TABLES);
    }

    @Test
    void aConnectionCutMidBackfillEndsTheRunAndTheNextRunResumesWithoutLoss(PostgresCluster pg) throws Exception {
        try (Setup s = setUp(pg, 60_000); MixedWorkload.Writers writers = s.workload().startWriters(2, 21, 20)) {
            try (ConnectorProcess p = s.orchestrator().start()) {
                p.await(m -> m.path("type").asText().equals("STATE"), RUN_TIMEOUT, "STATE");
                s.proxy().cutAll();
                ConnectorRun failed = assertFailsTransiently(p, s.orchestrator());
                assertThat(failed.records()).as("the cut came mid-backfill").isNotEmpty();
            }
            assertThat(s.source().state()).as("a state was emitted before the cut").isNotNull();
            finishCleanly(s, writers);
        }
    }

    @Test
    void aConnectionCutMidStreamEndsTheRunAndTheNextRunResumesWithoutLoss(PostgresCluster pg) throws Exception {
        try (Setup s = setUp(pg, 0)) {
            s.orchestrator().run(RUN_TIMEOUT); // the slot exists, the (empty) backfill is done
            try (MixedWorkload.Writers writers = s.workload().startWriters(2, 22, 2)) {
                s.source().config().put("tail", true);
                try (ConnectorProcess p = s.orchestrator().start()) {
                    // Changes are flowing: records of several of the writers' transactions have come through.
                    p.awaitCount(m -> m.path("type").asText().equals("RECORD"), 20, RUN_TIMEOUT, "RECORDs");
                    s.proxy().cutAll();
                    assertFailsTransiently(p, s.orchestrator());
                }
                finishCleanly(s, writers);
            }
        }
    }

    /**
     * A stall while the stream is idle between transactions: nothing but the liveness check can notice it
     * (no query is waiting on the query connection).
     */
    @Test
    void aStalledConnectionWhileIdleIsDetectedAndTheNextRunResumesWithoutLoss(PostgresCluster pg) throws Exception {
        try (Setup s = setUp(pg, 0)) {
            s.orchestrator().run(RUN_TIMEOUT);
            s.workload().transactions(30, 23);
            s.source().config().put("tail", true);
            try (ConnectorProcess p = s.orchestrator().start()) {
                awaitCaughtUp(s, p); // the stream is idle between transactions
                s.proxy().stall(); // open, silent: without the liveness check the run would wait forever
                s.workload().transactions(30, 26); // the server has news it cannot deliver
                assertStalledStreamDetected(p, s.orchestrator());
            }
            recoverFromStall(s);
            s.source().config().put("tail", false);
            s.orchestrator().run(RUN_TIMEOUT);
            s.orchestrator().assertDestinationEqualsSource(TABLES);
        }
    }

    /**
     * A stall in the middle of a large transaction: the capture is inside the transaction, where it does
     * not look at shutdown or stop requests, and must still notice the silence.
     */
    @Test
    void aStalledConnectionMidTransactionIsDetectedAndTheNextRunResumesWithoutLoss(PostgresCluster pg) throws Exception {
        try (Setup s = setUp(pg, 0)) {
            s.orchestrator().run(RUN_TIMEOUT);
            s.source().config().put("tail", true);
            try (ConnectorProcess p = s.orchestrator().start()) {
                p.await(m -> m.path("type").asText().equals("STATE"), RUN_TIMEOUT, "STATE");
                s.source().sql("INSERT INTO tags (code, label, weight) SELECT 'bulk-' || g, repeat('l', 50), g "
                        + "FROM generate_series(1, 300000) g");
                p.await(m -> m.path("type").asText().equals("RECORD"), RUN_TIMEOUT, "RECORD");
                s.proxy().stall();
                ConnectorRun failed = assertStalledStreamDetected(p, s.orchestrator());
                assertThat(failed.records().size()).as("the stall came mid-transaction").isLessThan(300_000);
            }
            recoverFromStall(s);
            s.source().config().put("tail", false);
            s.orchestrator().run(RUN_TIMEOUT);
            s.orchestrator().assertDestinationEqualsSource(TABLES);
        }
    }

    /**
     * The other side of the liveness check: a healthy stream with nothing to send, through a working proxy,
     * is questioned every 5 s and must keep running — the server's answer (our walsender holds the slot)
     * keeps it alive — and still delivers what comes later.
     */
    @Test
    void anIdleButHealthyStreamIsNeverMistakenForAStalledOne() throws Exception {
        // A server of its own: on the shared one, other tests' WAL would reach us as keepalives and the
        // stream would never be silent long enough to be questioned.
        try (PostgresCluster own = PostgresCluster.start(); Setup s = setUp(own, 0)) {
            s.orchestrator().run(RUN_TIMEOUT);
            s.source().config().put("tail", true);
            s.source().config().put("log_level", "DEBUG");
            try (ConnectorProcess p = s.orchestrator().start()) {
                p.await(m -> m.path("type").asText().equals("STATE"), RUN_TIMEOUT, "STATE");
                // Four silence intervals of 5 s, each ending in a question to the server and its answer.
                p.awaitCount(FaultsIT::isLivenessAnswer, 4, Duration.ofSeconds(90), "liveness answers (DEBUG LOG)");
                assertThat(p.isAlive()).as("an idle, healthy stream keeps running").isTrue();
                s.workload().transactions(20, 27);
                p.await(m -> m.path("type").asText().equals("RECORD"), RUN_TIMEOUT, "RECORD after the idle time");
                p.terminate();
                ConnectorRun stopped = p.finish(FAILURE_TIMEOUT);
                assertThat(stopped.exitCode()).as(stopped.toString()).isZero();
                assertThat(stopped.messages()).as("the server was asked and answered that our walsender holds the slot")
                        .anyMatch(FaultsIT::isLivenessAnswer);
                s.orchestrator().accept(stopped);
            }
            s.source().config().put("tail", false);
            s.orchestrator().run(RUN_TIMEOUT);
            s.orchestrator().assertDestinationEqualsSource(TABLES);
        }
    }

    /**
     * The liveness check, not some other failure, ended the run: silence (5 s) + the server's unanswered
     * liveness query (10 s) + closing the stalled stream (at most 15 s) lie well within FAILURE_TIMEOUT.
     */
    private static ConnectorRun assertStalledStreamDetected(ConnectorProcess p, Orchestrator orchestrator) {
        ConnectorRun failed = assertFailsTransiently(p, orchestrator);
        // A stall between two messages leaves the loop polling: the liveness check ends the run. A stall in the
        // middle of a message leaves the driver blocked reading its rest: the replication socket's timeout
        // (silence + probe) ends it. Which one happens depends on where the stall lands in the byte stream.
        assertThat(failed.error().get("message").asText()).as(failed.toString())
                .satisfiesAnyOf(m -> assertThat(m).contains("silent", "liveness"),
                        m -> assertThat(m).contains("Reading the replication stream failed",
                                "connection to the server was lost"));
        return failed;
    }

    /**
     * The stalled sessions are abandoned; cutting them lets the server end the walsender at once, so the
     * next run finds the slot free (otherwise the server's wal_sender_timeout would, a minute later).
     */
    private static void recoverFromStall(Setup s) {
        s.proxy().cutAll();
        s.proxy().resume();
        awaitSlotFree(s.source());
    }

    @Test
    void aStalledConnectionMidBackfillEndsTheRunAndTheNextRunResumesWithoutLoss(PostgresCluster pg) throws Exception {
        try (Setup s = setUp(pg, 60_000); MixedWorkload.Writers writers = s.workload().startWriters(2, 24, 20)) {
            try (ConnectorProcess p = s.orchestrator().start()) {
                p.await(m -> m.path("type").asText().equals("STATE"), RUN_TIMEOUT, "STATE");
                s.proxy().stall();
                // The chunk read waits statement_timeout (5 s) + 30 s for a byte, then the run ends.
                ConnectorRun failed = p.finish(Duration.ofSeconds(90));
                assertThat(failed.exitCode()).as(failed.toString()).isNotZero();
                assertThat(failed.error().get("failure_type").asText()).as(failed.toString()).isEqualTo("transient_error");
                s.orchestrator().accept(failed);
            }
            recoverFromStall(s);
            finishCleanly(s, writers);
        }
    }

    @Test
    void refusedConnectionsFailTheRunTransientlyAndTheNextRunCatchesUp(PostgresCluster pg) throws Exception {
        try (Setup s = setUp(pg, 1000)) {
            s.orchestrator().run(RUN_TIMEOUT);
            s.workload().transactions(50, 25);
            s.proxy().dropNewConnections(true);
            try (ConnectorProcess p = s.orchestrator().start()) {
                ConnectorRun failed = p.finish(FAILURE_TIMEOUT);
                assertThat(failed.exitCode()).as(failed.toString()).isNotZero();
                assertThat(failed.error().get("failure_type").asText()).as(failed.toString()).isEqualTo("transient_error");
                assertThat(failed.records()).isEmpty();
                assertThat(failed.states()).isEmpty();
                s.orchestrator().accept(failed);
            }
            s.proxy().dropNewConnections(false);
            s.orchestrator().run(RUN_TIMEOUT);
            s.orchestrator().assertDestinationEqualsSource(TABLES);
        }
    }

    /** The DEBUG LOG of a liveness check the server answered: our walsender still holds the slot. */
    private static boolean isLivenessAnswer(JsonNode m) {
        return m.path("type").asText().equals("LOG") && m.at("/log/message").asText().contains("still holds slot");
    }

    /**
     * Waits until the running connector has emitted every change committed so far: commits a marker row in a
     * transaction of its own and waits for its record. Changes come in commit order, so once the marker's
     * record is out, the stream has nothing left to deliver. The marker stays, like any row of the source.
     */
    private static void awaitCaughtUp(Setup s, ConnectorProcess p) {
        String marker = "caught-up-" + UUID.randomUUID();
        s.source().sql("INSERT INTO tags (code, label, weight) VALUES ('" + marker + "', 'marker', 0)");
        p.await(m -> m.path("type").asText().equals("RECORD") && m.at("/record/data/code").asText().equals(marker),
                RUN_TIMEOUT, "RECORD of the marker row " + marker);
    }

    /** Waits until the server has ended the abandoned walsender, so the slot can be streamed again. */
    private static void awaitSlotFree(CaptureFixture f) {
        Await.until("slot " + f.slot + " to be free after the stalled run ended", Duration.ofSeconds(90),
                () -> "false".equals(f.scalar("SELECT active::text FROM pg_replication_slots WHERE slot_name = '"
                        + f.slot + "'")));
    }
}
