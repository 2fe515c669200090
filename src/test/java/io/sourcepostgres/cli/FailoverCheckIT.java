package io.sourcepostgres.cli;

import static io.sourcepostgres.cli.CheckRuns.check;
import static io.sourcepostgres.cli.CheckRuns.config;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcepostgres.testing.CaptureFixture;
import io.sourcepostgres.testing.ConnectorRun;
import io.sourcepostgres.testing.PostgresCluster;
import io.sourcepostgres.testing.PostgresExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code slot_failover} on a primary without a standby to synchronise to: {@code check} fails naming what is
 * missing (before 17: the version; from 17: {@code synchronized_standby_slots}), and on a server older than 17
 * {@code read} refuses it with a config error rather than failing on the slot's creation.
 */
@ExtendWith(PostgresExtension.class)
class FailoverCheckIT {

    @Test
    void slotFailoverWithoutSynchronisedStandbysFailsCheckNamingTheFix(PostgresCluster pg) {
        String database = pg.createDatabase("failover_check");
        ObjectNode config = config(pg, "postgres", database);
        config.put("slot_failover", true);
        pg.execute(database, "CREATE PUBLICATION flow_publication FOR ALL TABLES");
        JsonNode status = check(config);

        assertThat(status.get("status").asText()).isEqualTo("FAILED");
        if (pg.majorVersion() >= 17) {
            assertThat(status.get("message").asText()).contains("synchronized_standby_slots is empty")
                    .contains("ALTER SYSTEM SET synchronized_standby_slots = 'standby1';")
                    .contains("sync_replication_slots = on");
        } else {
            assertThat(status.get("message").asText()).contains("slot_failover is on, but PostgreSQL")
                    .contains("has no failover slots").contains("Turn slot_failover off");
        }
    }

    /** On a server of its own before 17 (the version under test, or 16 when that is 17+). */
    @Test
    void slotFailoverBefore17IsRefusedByRead(PostgresCluster shared) {
        try (PostgresCluster pg = shared.majorVersion() < 17 ? null : PostgresCluster.start(PostgresCluster.options().version("16"));
                CaptureFixture f = new CaptureFixture(pg != null ? pg : shared)) {
            f.sql("CREATE TABLE t (id int PRIMARY KEY)");
            f.capture("public", "t");
            f.config().put("slot_failover", true);
            ConnectorRun run = f.read();

            assertThat(run.exitCode()).isNotZero();
            assertThat(run.error().get("failure_type").asText()).isEqualTo("config_error");
            assertThat(run.error().get("message").asText()).contains("has no failover slots");
        }
    }
}
