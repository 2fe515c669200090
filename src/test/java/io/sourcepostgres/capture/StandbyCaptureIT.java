package io.sourcepostgres.capture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcepostgres.testing.Await;
import io.sourcepostgres.testing.CaptureFixture;
import io.sourcepostgres.testing.Connector;
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
 * Capture from a streaming standby (PostgreSQL 16+), which accepts no write: the run's end and every backfill
 * fence come from the standby's replay position, the slot is created on the standby, and the records, applied
 * in order, equal the tables while writers keep changing them on the primary, backfill included.
 */
@ExtendWith(PostgresExtension.class)
class StandbyCaptureIT {
    private static final Duration RUN_TIMEOUT = Duration.ofSeconds(180);

    @Test
    void aCaptureFromAStandbyWithWritersOnThePrimaryEqualsTheTables(PostgresCluster shared) throws Exception {
        assumeTrue(Integer.parseInt(PostgresCluster.VERSION) >= 16, "logical decoding on a standby needs PostgreSQL 16+");
        try (PostgresCluster primary = PostgresCluster.start();
                PostgresCluster standby = primary.startStandby(PostgresCluster.options())) {
            CaptureFixture f = new CaptureFixture(primary); // the database, tables and writes live on the primary
            f.config().put("connectionURI", standby.uri("postgres", null, f.database));
            f.config().put("backfill_chunk_size", 37); // many chunks, each racing the writers
            Destination destination = new Destination(shared, shared.createDatabase("dest"));
            MixedWorkload.captureInto(f, destination);
            f.sql("CREATE PUBLICATION " + f.publication + " FOR ALL TABLES"); // a standby cannot create it
            MixedWorkload workload = new MixedWorkload(primary, f.database);
            workload.transactions(400, 42); // rows to backfill
            standby.awaitReplayOf(primary);
            // check: a standby without hot_standby_feedback fails, naming the fix; with it, it passes.
            standby.execute("postgres", "ALTER SYSTEM SET hot_standby_feedback = off", "SELECT pg_reload_conf()");
            awaitTrue(() -> "off".equals(standby.scalar("postgres", "SHOW hot_standby_feedback")));
            JsonNode withoutFeedback = check(f);
            assertThat(withoutFeedback.get("status").asText()).isEqualTo("FAILED");
            assertThat(withoutFeedback.get("message").asText()).contains("hot_standby_feedback is off on this standby")
                    .contains("ALTER SYSTEM SET hot_standby_feedback = on;");
            standby.execute("postgres", "ALTER SYSTEM SET hot_standby_feedback = on", "SELECT pg_reload_conf()");
            awaitTrue(() -> "on".equals(standby.scalar("postgres", "SHOW hot_standby_feedback")));
            JsonNode ready = check(f);
            assertThat(ready.get("status").asText()).as(ready.toString()).isEqualTo("SUCCEEDED");

            Orchestrator orchestrator = new Orchestrator(f, destination, MixedWorkload.keyColumns());
            String[] tables = MixedWorkload.TABLES.values().stream().map(MixedWorkload.Table::qualified)
                    .toArray(String[]::new);

            try (MixedWorkload.Writers writers = workload.startWriters(2, 17, 10)) {
                ConnectorRun first;
                try (ConnectorProcess p = orchestrator.start()) {
                    // Creating a slot on a standby waits for the primary to log its running transactions; the run
                    // says so and names the call that ends the wait.
                    p.await(m -> logContains(m, "pg_log_standby_snapshot()")
                            || logContains(m, "Created replication slot"), RUN_TIMEOUT, "slot creation");
                    long deadline = System.nanoTime() + RUN_TIMEOUT.toNanos();
                    while (p.messages().stream().noneMatch(m -> logContains(m, "Created replication slot"))
                            && System.nanoTime() < deadline) {
                        primary.execute("postgres", "SELECT pg_log_standby_snapshot()");
                        Thread.sleep(200);
                    }
                    first = p.finish(RUN_TIMEOUT);
                }
                assertThat(first.exitCode()).as(first.toString()).isZero();
                orchestrator.accept(first);
                assertThat(first.records()).as("the backfill emitted the preexisting rows").hasSizeGreaterThan(200);
                assertThat(standby.scalar("postgres", "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '"
                        + f.slot + "'")).as("the slot lives on the standby").isEqualTo("1");

                // A run while writers keep writing, then one after they stopped, from the states carried forward.
                long committed = writers.committed();
                awaitCommits(writers, committed + 100);
                orchestrator.run(RUN_TIMEOUT);
                awaitCommits(writers, writers.committed() + 50);
                writers.stop();
            }
            standby.awaitReplayOf(primary);
            ConnectorRun last = orchestrator.run(RUN_TIMEOUT);
            orchestrator.assertDestinationEqualsSource(tables);
            assertThat(last.exitCode()).isZero();
            standby.execute("postgres", "SELECT pg_drop_replication_slot('" + f.slot + "')");
        }
    }

    private static JsonNode check(CaptureFixture f) {
        ConnectorRun run = Connector.run("check", "--config", f.configFile().toString());
        assertThat(run.exitCode()).as(run.toString()).isZero();
        return run.connectionStatus();
    }

    private static void awaitTrue(java.util.function.BooleanSupplier condition) {
        Await.until("the condition", Duration.ofSeconds(60), condition);
    }

    private static void awaitCommits(MixedWorkload.Writers writers, long atLeast) {
        Await.until(atLeast + " commits of the writers", Duration.ofSeconds(60), () -> writers.committed() >= atLeast);
    }

    static boolean logContains(JsonNode m, String text) {
        return m.path("type").asText().equals("LOG") && m.at("/log/message").asText().contains(text);
    }

    static List<String> logs(ConnectorRun run) {
        return run.ofType("LOG").stream().map(m -> m.at("/log/message").asText()).toList();
    }
}
