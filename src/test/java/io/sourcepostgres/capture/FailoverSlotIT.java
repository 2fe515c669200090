package io.sourcepostgres.capture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcepostgres.testing.Await;
import io.sourcepostgres.testing.CaptureFixture;
import io.sourcepostgres.testing.Connector;
import io.sourcepostgres.testing.ConnectorRun;
import io.sourcepostgres.testing.Destination;
import io.sourcepostgres.testing.MixedWorkload;
import io.sourcepostgres.testing.Orchestrator;
import io.sourcepostgres.testing.PostgresCluster;
import io.sourcepostgres.testing.PostgresExtension;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Failover slots (PostgreSQL 17+): with {@code slot_failover} the slot is created with failover = true, a standby
 * with slot synchronisation keeps a copy, and after the primary fails and the standby is promoted the next run
 * continues from the copy without loss. Without a copy, the run is refused with a config error that says the slot
 * is missing and what a new backfill costs. {@code check} names the primary's missing setting.
 */
@ExtendWith(PostgresExtension.class)
class FailoverSlotIT {
    private static final Duration RUN_TIMEOUT = Duration.ofSeconds(180);

    @BeforeEach
    void needs17() {
        assumeTrue(Integer.parseInt(PostgresCluster.VERSION) >= 17, "failover slots need PostgreSQL 17+");
    }

    @Test
    void aRunAfterAPromotionContinuesFromTheSynchronisedSlot(PostgresCluster shared) throws Exception {
        try (PostgresCluster primary = PostgresCluster.start();
                PostgresCluster standby = primary.startStandby(PostgresCluster.options().set("sync_replication_slots", "on"))) {
            CaptureFixture f = new CaptureFixture(primary);
            f.config().put("slot_failover", true);
            Destination destination = new Destination(shared, shared.createDatabase("dest"));
            MixedWorkload.captureInto(f, destination);
            new MixedWorkload(primary, f.database).transactions(300, 7);

            // check: the primary does not yet wait for the standby before sending the capture changes.
            JsonNode unsafe = check(f);
            assertThat(unsafe.get("status").asText()).isEqualTo("FAILED");
            assertThat(unsafe.get("message").asText()).contains("synchronized_standby_slots is empty")
                    .contains("ALTER SYSTEM SET synchronized_standby_slots");
            primary.execute("postgres", "ALTER SYSTEM SET synchronized_standby_slots = '" + standby.primarySlotName() + "'",
                    "SELECT pg_reload_conf()");
            awaitSetting(primary, "synchronized_standby_slots", standby.primarySlotName());
            JsonNode safe = check(f);
            assertThat(safe.get("status").asText()).as(safe.toString()).isEqualTo("SUCCEEDED");

            Orchestrator orchestrator = new Orchestrator(f, destination, MixedWorkload.keyColumns());
            try (MixedWorkload.Writers writers = new MixedWorkload(primary, f.database).startWriters(2, 23, 3)) {
                orchestrator.run(RUN_TIMEOUT); // creates the slot and backfills while the writers write
                writers.stop();
            }
            assertThat(primary.scalar("postgres", "SELECT failover::text FROM pg_replication_slots WHERE slot_name = '"
                    + f.slot + "'")).as("a failover slot").isEqualTo("true");
            // Each run confirms the state of the one before, so the slot's restart point moves on the primary (past a
            // record of running transactions) and the standby keeps its copy for good once that copy has caught up.
            // The standby's slot sync worker naps up to 30 s between rounds when idle, so each run is followed by a
            // wait for the copy (a condition, bounded) before another run is made.
            for (int run = 2; !copyCaughtUpWithin(primary, standby, f.slot, 35_000); run++) {
                assertThat(run).as("the standby keeps a persistent, caught-up copy of the slot within 12 runs: "
                        + "primary " + slotRow(primary, f.slot) + ", standby " + slotRow(standby, f.slot)).isLessThan(12);
                primary.execute("postgres", "SELECT pg_log_standby_snapshot()");
                orchestrator.run(RUN_TIMEOUT);
            }
            // Changes after the last state, which the promoted standby must still deliver from its copy of the slot.
            new MixedWorkload(primary, f.database).transactions(100, 31);
            standby.awaitReplayOf(primary);
            primary.stopImmediate(); // the primary fails
            standby.promote();

            new MixedWorkload(standby, f.database).transactions(100, 29); // writes on the new primary
            f.config().put("connectionURI", standby.uri("postgres", null, f.database));
            ConnectorRun after = orchestrator.run(RUN_TIMEOUT);
            assertThat(after.records()).isNotEmpty();
            for (MixedWorkload.Table t : MixedWorkload.TABLES.values()) {
                assertThat(destination.rows(t.qualified())).as(t.qualified())
                        .isEqualTo(Destination.rows(standby, f.database, t.qualified()));
            }
            standby.execute(f.database, "SELECT pg_drop_replication_slot('" + f.slot + "')");
        }
    }

    @Test
    void aRunAfterAPromotionWithoutACopyOfTheSlotIsRefusedWithTheCostOfANewBackfill(PostgresCluster shared) {
        try (PostgresCluster primary = PostgresCluster.start();
                PostgresCluster standby = primary.startStandby(PostgresCluster.options())) {
            CaptureFixture f = new CaptureFixture(primary);
            Destination destination = new Destination(shared, shared.createDatabase("dest"));
            MixedWorkload.captureInto(f, destination);
            new MixedWorkload(primary, f.database).transactions(200, 3);
            f.sql("ANALYZE"); // row estimates for the message
            Orchestrator orchestrator = new Orchestrator(f, destination, MixedWorkload.keyColumns());
            orchestrator.run(RUN_TIMEOUT); // a slot without failover: no standby keeps a copy

            standby.awaitReplayOf(primary);
            primary.stopImmediate();
            standby.promote();
            f.config().put("connectionURI", standby.uri("postgres", null, f.database));
            ConnectorRun refused = f.read();

            assertThat(refused.exitCode()).as(refused.toString()).isNotZero();
            assertThat(refused.records()).isEmpty();
            assertThat(refused.error().get("failure_type").asText()).isEqualTo("config_error");
            assertThat(refused.error().get("message").asText())
                    .contains("Replication slot \"" + f.slot + "\" does not exist on this server")
                    .contains("failed over to a standby").contains("slot_failover")
                    .containsPattern("backfill the 4 incremental streams again: about [1-9][0-9]* rows and [0-9.]+ kB");
            assertThat(standby.scalar("postgres", "SELECT count(*) FROM pg_replication_slots"))
                    .as("no new slot is left behind").isEqualTo("0");
        }
    }

    /** Whether the standby's copy of the slot will survive a promotion and has the primary's confirmed position. */
    private static boolean copyCaughtUpWithin(PostgresCluster primary, PostgresCluster standby, String slot, long millis)
            throws InterruptedException {
        long deadline = System.nanoTime() + millis * 1_000_000L;
        while (!copyCaughtUp(primary, standby, slot)) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(200);
        }
        return true;
    }

    private static boolean copyCaughtUp(PostgresCluster primary, PostgresCluster standby, String slot) {
        String confirmed = primary.scalar("postgres", "SELECT confirmed_flush_lsn::text FROM pg_replication_slots "
                + "WHERE slot_name = '" + slot + "'");
        return "t".equals(standby.scalar("postgres", "SELECT synced AND NOT temporary AND confirmed_flush_lsn >= '"
                + confirmed + "' FROM pg_replication_slots WHERE slot_name = '" + slot + "'"));
    }

    private static String slotRow(PostgresCluster pg, String slot) {
        return pg.scalar("postgres", "SELECT s::text FROM pg_replication_slots s WHERE slot_name = '" + slot + "'");
    }

    private static JsonNode check(CaptureFixture f) {
        ConnectorRun run = Connector.run("check", "--config", f.configFile().toString());
        assertThat(run.exitCode()).as(run.toString()).isZero();
        return run.connectionStatus();
    }

    private static void awaitSetting(PostgresCluster pg, String name, String value) {
        await(name + " = " + value, () -> value.equals(pg.scalar("postgres", "SELECT current_setting('" + name + "')")));
    }

    private static void await(String what, java.util.function.BooleanSupplier condition) {
        Await.until(what, Duration.ofSeconds(120), condition);
    }
}
