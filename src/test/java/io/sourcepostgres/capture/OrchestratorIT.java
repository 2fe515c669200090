package io.sourcepostgres.capture;

import static org.assertj.core.api.Assertions.assertThat;

import io.sourcepostgres.testing.CaptureFixture;
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
 * The whole product as an orchestrator sees it: the real launcher run after run, each run's records applied
 * to a second database (upsert by key, delete on {@code _ab_cdc_deleted_at}) and its last state passed to
 * the next run. After a mixed workload — with writers running during some runs — the destination equals
 * the source, and no key's {@code _ab_cdc_lsn} ever went back.
 */
@ExtendWith(PostgresExtension.class)
class OrchestratorIT {
    private static final Duration RUN_TIMEOUT = Duration.ofSeconds(120);
    private static final long SEED = Long.getLong("workload.seed", 20240611L);

    @Test
    void runByRunTheDestinationConvergesToTheSourceUnderAMixedConcurrentWorkload(PostgresCluster pg) {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            Destination destination = new Destination(pg, pg.createDatabase("dest"));
            MixedWorkload.captureInto(f, destination);
            String[] tables = MixedWorkload.TABLES.values().stream().map(MixedWorkload.Table::qualified).toArray(String[]::new);
            Orchestrator orchestrator = new Orchestrator(f, destination, MixedWorkload.keyColumns());
            MixedWorkload workload = new MixedWorkload(pg, f.database);

            ConnectorRun first = orchestrator.run(RUN_TIMEOUT); // creates the slot: changes are captured from here
            assertThat(first.records()).isEmpty();

            // Quiet rounds: write, then run; each run brings the destination level with the source.
            for (int round = 0; round < 3; round++) {
                MixedWorkload.Counts counts = workload.transactions(200, SEED + round);
                assertThat(counts.committed()).isPositive();
                assertThat(counts.rolledBack()).isPositive();
                long before = orchestrator.recordsApplied();
                orchestrator.run(RUN_TIMEOUT);
                assertThat(orchestrator.recordsApplied()).isGreaterThan(before);
                orchestrator.assertDestinationEqualsSource(tables);
            }

            assertThat(Long.parseLong(f.scalar("SELECT pg_relation_size(reltoastrelid) FROM pg_class WHERE oid = 'accounts'::regclass")))
                    .as("large values of accounts.doc are stored out of line, so updates leave them unchanged-TOAST")
                    .isPositive();

            // Busy rounds: writers keep writing while the connector runs, starts and stops.
            long beforeBusy = orchestrator.recordsApplied();
            MixedWorkload.Counts written;
            try (MixedWorkload.Writers writers = workload.startWriters(2, SEED, 3)) {
                for (int round = 0; round < 3; round++) {
                    orchestrator.run(RUN_TIMEOUT);
                }
                written = writers.stop();
            }
            assertThat(written.committed()).isPositive();
            assertThat(orchestrator.recordsApplied()).isGreaterThan(beforeBusy);

            // Writers stopped: one more run catches up with everything they committed.
            orchestrator.run(RUN_TIMEOUT);
            orchestrator.assertDestinationEqualsSource(tables);

            // And a run with nothing new changes nothing.
            ConnectorRun idle = orchestrator.run(RUN_TIMEOUT);
            assertThat(idle.records()).isEmpty();
            orchestrator.assertDestinationEqualsSource(tables);
        }
    }
}
