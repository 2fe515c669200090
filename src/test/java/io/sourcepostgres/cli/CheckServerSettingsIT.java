package io.sourcepostgres.cli;

import static io.sourcepostgres.cli.CheckRuns.check;
import static io.sourcepostgres.cli.CheckRuns.config;
import static io.sourcepostgres.cli.CheckRuns.createRole;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcepostgres.testing.PostgresCluster;
import java.sql.Connection;
import org.junit.jupiter.api.Test;

/** {@code check} against servers whose settings keep a capture from starting, each started for its test. */
class CheckServerSettingsIT {

    @Test
    void walLevelReplicaFailsWithTheSettingToChange() {
        try (PostgresCluster replica = PostgresCluster.start(PostgresCluster.options().set("wal_level", "replica"))) {
            JsonNode status = check(config(replica, "postgres", "postgres"));

            assertThat(status.get("status").asText()).isEqualTo("FAILED");
            assertThat(status.get("message").asText())
                    .startsWith("wal_level is 'replica', but logical replication needs 'logical'")
                    .contains("wal_level = logical in postgresql.conf")
                    .contains("ALTER SYSTEM SET wal_level = logical;")
                    .contains("restart the server");

            // The example users hit most: both the setting and the role are wrong, and both are reported at once.
            String user = createRole(replica, "capture", "");
            replica.execute("postgres", "CREATE PUBLICATION flow_publication FOR ALL TABLES");
            JsonNode both = check(config(replica, user, "postgres"));

            assertThat(both.get("status").asText()).isEqualTo("FAILED");
            assertThat(both.get("message").asText())
                    .startsWith("2 problems must be fixed before a capture can start:")
                    .contains("(1) wal_level is 'replica'")
                    .contains("(2) User \"" + user + "\" may not replicate")
                    .contains("ALTER ROLE \"" + user + "\" WITH REPLICATION;");
        }
    }

    @Test
    void noWalSendersFailsWithTheSettingToChange() {
        try (PostgresCluster pg = PostgresCluster.start(PostgresCluster.options().set("max_wal_senders", "0"))) {
            JsonNode status = check(config(pg, "postgres", "postgres"));

            assertThat(status.get("status").asText()).isEqualTo("FAILED");
            assertThat(status.get("message").asText())
                    .startsWith("max_wal_senders is 0, so the server accepts no replication connection")
                    .contains("max_wal_senders = 10")
                    .contains("restart the server");
        }
    }

    @Test
    void fullSlotAndWalSenderLimitsFail() throws Exception {
        try (PostgresCluster pg = PostgresCluster.start(PostgresCluster.options()
                .set("max_replication_slots", "1").set("max_wal_senders", "1"))) {
            pg.execute("postgres", "SELECT pg_create_logical_replication_slot('occupier', 'pgoutput')");

            // A missing slot cannot be created when every slot is taken.
            JsonNode noRoom = check(config(pg, "postgres", "postgres"));

            assertThat(noRoom.get("status").asText()).isEqualTo("FAILED");
            assertThat(noRoom.get("message").asText())
                    .contains("Replication slot 'flow_slot' does not exist and cannot be created")
                    .contains("1 of max_replication_slots = 1 slots are in use")
                    .contains("raise max_replication_slots");

            // An existing slot is fine, but a read also needs a WAL sender; only the server can say none is free.
            ObjectNode config = config(pg, "postgres", "postgres");
            config.put("slot_name", "occupier");
            try (Connection walSender = pg.replicationConnection("postgres")) {
                JsonNode noSender = check(config);

                assertThat(noSender.get("status").asText()).isEqualTo("FAILED");
                assertThat(noSender.get("message").asText())
                        .contains("A replication connection (what a read streams from) failed")
                        .contains("Every WAL sender of the server at 127.0.0.1:" + pg.port() + " is taken")
                        .contains("raise max_wal_senders");
            }
            assertThat(check(config).get("status").asText()).as("a free WAL sender again").isEqualTo("SUCCEEDED");
        }
    }
}
