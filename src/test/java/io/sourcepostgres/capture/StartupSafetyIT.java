package io.sourcepostgres.capture;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcepostgres.testing.CaptureFixture;
import io.sourcepostgres.testing.Connector;
import io.sourcepostgres.testing.ConnectorRun;
import io.sourcepostgres.testing.PostgresCluster;
import io.sourcepostgres.testing.PostgresExtension;
import java.sql.Connection;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.postgresql.PGConnection;
import org.postgresql.PGProperty;
import org.postgresql.replication.PGReplicationStream;

/** A state that does not fit this server and slot is refused before anything is read. */
@ExtendWith(PostgresExtension.class)
class StartupSafetyIT {

    private static CaptureFixture started(PostgresCluster pg) {
        CaptureFixture f = new CaptureFixture(pg);
        f.sql("CREATE TABLE t (id int PRIMARY KEY)");
        f.capture("public", "t");
        ConnectorRun first = f.read();
        assertThat(first.exitCode()).as(first.toString()).isZero();
        return f;
    }

    private static void assertRefused(ConnectorRun run, String... fragments) {
        assertThat(run.exitCode()).as(run.toString()).isNotZero();
        assertThat(run.records()).isEmpty();
        assertThat(run.states()).isEmpty();
        assertThat(run.error().get("failure_type").asText()).isEqualTo("config_error");
        assertThat(run.error().get("message").asText()).contains(fragments);
    }

    @Test
    void aStateOfAnotherClusterIsRefused(PostgresCluster pg) {
        try (CaptureFixture f = started(pg)) {
            ObjectNode state = f.state().deepCopy();
            ((ObjectNode) state.at("/global/shared_state")).put("system_identifier", "1234567890123456789");
            f.setState(state);
            assertRefused(f.read(), "another PostgreSQL cluster", "1234567890123456789");
        }
    }

    @Test
    void aStateOfAnotherSlotIsRefused(PostgresCluster pg) {
        try (CaptureFixture f = started(pg)) {
            ObjectNode state = f.state().deepCopy();
            ((ObjectNode) state.at("/global/shared_state")).put("slot_name", "some_other_slot");
            f.setState(state);
            assertRefused(f.read(), "some_other_slot", f.slot);
        }
    }

    @Test
    void aSlotDroppedAndRecreatedSinceTheStateIsRefused(PostgresCluster pg) {
        try (CaptureFixture f = started(pg)) {
            f.sql("INSERT INTO t VALUES (1)");
            f.sql("SELECT pg_drop_replication_slot('" + f.slot + "')");
            f.sql("SELECT pg_create_logical_replication_slot('" + f.slot + "', 'pgoutput')");
            assertRefused(f.read(), "moved past the state's position", "dropped and recreated");
        }
    }

    @Test
    void garbageStateIsRefused(PostgresCluster pg) {
        try (CaptureFixture f = started(pg)) {
            for (String garbage : new String[] {"{not json", "[1,2,3]", "{\"type\":\"STREAM\",\"stream\":{}}",
                    "{\"type\":\"GLOBAL\",\"global\":{\"shared_state\":{\"state_version\":1,\"position\":\"nope\"}}}",
                    "{\"type\":\"GLOBAL\",\"global\":{\"shared_state\":{\"state_version\":99}}}", "\"just a string\""}) {
                String[] args = {"read", "--config", f.configFile().toString(), "--catalog",
                        Connector.file(f.catalog()).toString(), "--state", Connector.file(garbage).toString()};
                ConnectorRun run = Connector.run(args);
                assertThat(run.exitCode()).as(garbage + "\n" + run).isNotZero();
                assertThat(run.records()).isEmpty();
                assertThat(run.states()).isEmpty();
                assertThat(run.error().get("failure_type").asText()).as(garbage).isEqualTo("config_error");
                assertThat(run.error().get("message").asText()).as(garbage).containsIgnoringCase("state");
            }
        }
    }

    @Test
    void aSlotActiveInAnotherProcessIsRefused(PostgresCluster pg) throws Exception {
        try (CaptureFixture f = started(pg)) {
            java.util.Properties props = new java.util.Properties();
            PGProperty.USER.set(props, "postgres");
            PGProperty.REPLICATION.set(props, "database");
            PGProperty.PREFER_QUERY_MODE.set(props, "simple");
            PGProperty.ASSUME_MIN_SERVER_VERSION.set(props, "10");
            try (Connection holder = java.sql.DriverManager.getConnection(pg.jdbcUrl(f.database), props)) {
                PGReplicationStream stream = holder.unwrap(PGConnection.class).getReplicationAPI().replicationStream()
                        .logical().withSlotName(f.slot).withSlotOption("proto_version", "1")
                        .withSlotOption("publication_names", f.publication).withStatusInterval(1, TimeUnit.SECONDS)
                        .start();
                ConnectorRun run = f.read();
                assertRefused(run, "in use by another connection", "pg_terminate_backend");
                stream.close();
            }
        }
    }

    @Test
    void anInvalidatedSlotIsRefused(PostgresCluster shared) {
        if (shared.majorVersion() < 13) {
            // PostgreSQL 12 cannot invalidate a slot (no max_slot_wal_keep_size): its slots keep their WAL
            // forever, and wal_status does not exist. Prove the column is absent rather than skip.
            assertThat(new CaptureFixture(shared).scalar(
                    "SELECT count(*) FROM pg_attribute WHERE attrelid = 'pg_replication_slots'::regclass"
                            + " AND attname = 'wal_status'")).isEqualTo("0");
            return;
        }
        // max_slot_wal_keep_size lets the server invalidate a slot that falls too far behind.
        try (PostgresCluster small = PostgresCluster.start(PostgresCluster.options()
                .set("max_slot_wal_keep_size", "1MB").set("wal_keep_size", "0").set("max_wal_size", "32MB")
                .set("min_wal_size", "32MB"))) {
            try (CaptureFixture f = started(small)) {
                f.sql("CREATE TABLE filler (pad text)");
                for (int i = 0; i < 8 && !"lost".equals(walStatus(f)); i++) {
                    f.sql("INSERT INTO filler SELECT repeat(md5(g::text), 30) FROM generate_series(1, 20000) g",
                            "SELECT pg_switch_wal()", "CHECKPOINT");
                }
                assertThat(walStatus(f)).isEqualTo("lost");
                assertRefused(f.read(), "invalidated", "pg_drop_replication_slot");
            }
        }
    }

    private static String walStatus(CaptureFixture f) {
        return f.scalar("SELECT wal_status FROM pg_replication_slots WHERE slot_name = '" + f.slot + "'");
    }
}
