package io.sourcepostgres.capture;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcepostgres.testing.AppliedRecords;
import io.sourcepostgres.testing.CaptureFixture;
import io.sourcepostgres.testing.Connector;
import io.sourcepostgres.testing.ConnectorRun;
import io.sourcepostgres.testing.PostgresCluster;
import io.sourcepostgres.testing.PostgresExtension;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A scan key outside the replica identity cannot be followed through the WAL: an update changing it carries no
 * old key, a delete names other columns. Read refuses it (and check reports it first) unless REPLICA IDENTITY FULL
 * sends every old value, which makes it exact.
 */
@ExtendWith(PostgresExtension.class)
class ScanKeyIdentityIT {

    private static void assertRefused(ConnectorRun run, String... fragments) {
        assertThat(run.exitCode()).as(run.toString()).isNotZero();
        assertThat(run.records()).isEmpty();
        assertThat(run.error().get("failure_type").asText()).isEqualTo("config_error");
        assertThat(run.error().get("message").asText()).contains(fragments);
    }

    @Test
    void aCatalogKeyOnAnotherUniqueColumnIsRefusedUnderTheDefaultIdentity(PostgresCluster pg) {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            f.sql("CREATE TABLE t (id int PRIMARY KEY, u int NOT NULL UNIQUE, v text)", "INSERT INTO t VALUES (1, 10, 'a')");
            f.capture("public", "t").primaryKey("t", "u");
            assertRefused(f.read(), "the catalog's primary_key (\"u\")", "ALTER TABLE \"public\".\"t\" REPLICA IDENTITY FULL;",
                    "set the stream's primary_key in the catalog to (\"id\")");
        }
    }

    @Test
    void anIdentityIndexOtherThanThePrimaryKeyIsRefusedByReadAndReportedByCheck(PostgresCluster pg) {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            f.sql("CREATE TABLE t (id int PRIMARY KEY, u int NOT NULL, v text)", "CREATE UNIQUE INDEX t_u ON t (u)",
                    "ALTER TABLE t REPLICA IDENTITY USING INDEX t_u", "INSERT INTO t VALUES (1, 10, 'a')",
                    "CREATE PUBLICATION " + f.publication + " FOR ALL TABLES");
            f.capture("public", "t");

            JsonNode status = Connector.run("check", "--config", f.configFile().toString()).connectionStatus();
            assertThat(status.get("status").asText()).isEqualTo("FAILED");
            String expected = "Table \"public\".\"t\" identifies its rows by its primary key (\"id\"), but PostgreSQL logs"
                    + " old values by REPLICA IDENTITY USING INDEX \"t_u\" on (\"u\")";
            assertThat(status.get("message").asText()).contains(expected, "REPLICA IDENTITY DEFAULT");

            assertRefused(f.read(), expected, "REPLICA IDENTITY DEFAULT");
        }
    }

    @Test
    void underReplicaIdentityFullAnotherKeyIsExact(PostgresCluster pg) {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            f.sql("CREATE TABLE t (id int PRIMARY KEY, u int NOT NULL UNIQUE, v text)", "ALTER TABLE t REPLICA IDENTITY FULL",
                    "INSERT INTO t SELECT g, g * 10, 'r' || g FROM generate_series(1, 5) g");
            f.capture("public", "t").primaryKey("t", "u");
            ConnectorRun first = f.read();
            assertThat(first.exitCode()).as(first.toString()).isZero();
            f.sql("UPDATE t SET u = 11 WHERE id = 1", "UPDATE t SET v = 'x' WHERE id = 2", "DELETE FROM t WHERE id = 3");
            ConnectorRun second = f.read();
            assertThat(second.exitCode()).as(second.toString()).isZero();

            List<JsonNode> all = new ArrayList<>();
            first.records().forEach(all::add);
            second.records().forEach(all::add);
            Map<String, JsonNode> applied = AppliedRecords.apply(all, d -> String.format("%08d", d.get("u").asInt()));
            assertThat(applied.keySet()).containsExactly("00000011", "00000020", "00000040", "00000050");
            assertThat(applied.get("00000020").get("v").asText()).isEqualTo("x");
        }
    }
}
