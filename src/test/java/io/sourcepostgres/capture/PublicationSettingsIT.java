package io.sourcepostgres.capture;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcepostgres.testing.AppliedRecords;
import io.sourcepostgres.testing.CaptureFixture;
import io.sourcepostgres.testing.Connector;
import io.sourcepostgres.testing.ConnectorRun;
import io.sourcepostgres.testing.PostgresCluster;
import io.sourcepostgres.testing.PostgresExtension;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A read honours what the publication says, as check does: publish limits are refused with check's own message,
 * and a row filter or column list (PostgreSQL 15+) shapes the backfill exactly as it shapes replication.
 */
@ExtendWith(PostgresExtension.class)
class PublicationSettingsIT {

    private static ConnectorRun check(CaptureFixture f) {
        return Connector.run("check", "--config", f.configFile().toString());
    }

    @Test
    void aPublicationWithoutUpdatesIsRefusedByReadWithChecksMessage(PostgresCluster pg) {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            f.sql("CREATE TABLE t (id int PRIMARY KEY, v text)", "INSERT INTO t VALUES (1, 'a')",
                    "CREATE PUBLICATION " + f.publication + " FOR ALL TABLES WITH (publish = 'insert')");
            f.capture("public", "t");

            JsonNode status = check(f).connectionStatus();
            assertThat(status.get("status").asText()).isEqualTo("FAILED");
            String message = status.get("message").asText();
            assertThat(message).contains("does not publish update, delete changes");

            ConnectorRun read = f.read();
            assertThat(read.exitCode()).as(read.toString()).isNotZero();
            assertThat(read.records()).isEmpty();
            assertThat(read.error().get("failure_type").asText()).isEqualTo("config_error");
            assertThat(read.error().get("message").asText()).isEqualTo(message);
            assertThat(f.slotConfirmedFlush()).as("nothing was created").isNull();
        }
    }

    @Test
    void aRowFilterAndAColumnListShapeTheBackfillAsTheyShapeReplication(PostgresCluster pg) throws Exception {
        if (pg.majorVersion() < 15) {
            // No row filters or column lists before PostgreSQL 15: the syntax itself is refused.
            try (CaptureFixture f = new CaptureFixture(pg)) {
                f.sql("CREATE TABLE t (id int PRIMARY KEY, region text)");
                assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> f.sql("CREATE PUBLICATION "
                        + f.publication + " FOR TABLE t WHERE (region = 'eu')"))).isNotNull();
            }
            return;
        }
        try (CaptureFixture f = new CaptureFixture(pg)) {
            f.sql("CREATE TABLE t (id int PRIMARY KEY, region text NOT NULL, secret text, v int)",
                    "INSERT INTO t SELECT g, CASE WHEN g % 3 = 0 THEN 'eu' ELSE 'us' END, 'pw' || g, g"
                            + " FROM generate_series(1, 300) g",
                    // A row filter's columns must be in the replica identity, and a column list must cover it.
                    "CREATE UNIQUE INDEX t_id_region ON t (id, region)",
                    "ALTER TABLE t REPLICA IDENTITY USING INDEX t_id_region",
                    "CREATE PUBLICATION " + f.publication + " FOR TABLE t (id, region, v) WHERE (region = 'eu')");
            f.capture("public", "t");
            f.config().put("backfill_chunk_size", 40);

            ConnectorRun first = f.read();
            assertThat(first.exitCode()).as(first.toString()).isZero();
            assertThat(first.records()).as("only the published rows").hasSize(100);
            for (JsonNode r : first.records()) {
                assertThat(r.at("/data/region").asText()).isEqualTo("eu");
                assertThat(r.at("/data").has("secret")).as("an unpublished column").isFalse();
            }

            f.sql("INSERT INTO t VALUES (1001, 'us', 'x', 1), (1002, 'eu', 'x', 2)",
                    "UPDATE t SET region = 'eu' WHERE id = 1",      // moves in: sent as an insert
                    "UPDATE t SET region = 'us' WHERE id = 3",      // moves out: sent as a delete
                    "UPDATE t SET v = -6 WHERE id = 6",             // stays in
                    "UPDATE t SET v = -2 WHERE id = 2",             // stays out
                    "DELETE FROM t WHERE id = 9");
            ConnectorRun second = f.read();
            assertThat(second.exitCode()).as(second.toString()).isZero();

            List<JsonNode> all = new ArrayList<>();
            first.records().forEach(all::add);
            second.records().forEach(all::add);
            Map<String, JsonNode> applied = AppliedRecords.apply(all, d -> String.format("%08d", d.get("id").asInt()));
            Map<String, String> expected = new TreeMap<>();
            try (java.sql.Connection c = pg.connect(f.database); Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery("SELECT id, region, v FROM t WHERE region = 'eu' ORDER BY id")) {
                while (rs.next()) {
                    expected.put(String.format("%08d", rs.getInt(1)),
                            "{\"id\":" + rs.getInt(1) + ",\"region\":\"" + rs.getString(2) + "\",\"v\":" + rs.getInt(3) + "}");
                }
            }
            Map<String, String> actual = new TreeMap<>();
            applied.forEach((k, v) -> actual.put(k, v.toString()));
            assertThat(actual).isEqualTo(expected);

            // A backfill that starts over during a run (here after a TRUNCATE) is shaped the same way.
            f.config().put("truncate_handling", "rebackfill");
            f.sql("TRUNCATE t", "INSERT INTO t SELECT g, CASE WHEN g % 2 = 0 THEN 'eu' ELSE 'us' END, 'pw', g"
                    + " FROM generate_series(1, 20) g");
            ConnectorRun third = f.read();
            assertThat(third.exitCode()).as(third.toString()).isZero();
            assertThat(third.records()).as("the new rows, streamed and backfilled again").hasSizeGreaterThanOrEqualTo(10);
            for (JsonNode r : third.records()) {
                assertThat(r.at("/data/region").asText()).as("%s", r).isEqualTo("eu");
                assertThat(r.at("/data").has("secret")).as("an unpublished column in %s", r).isFalse();
            }
        }
    }

    @Test
    void aColumnListWithoutTheScanKeyIsRefused(PostgresCluster pg) {
        if (pg.majorVersion() < 15) {
            return; // column lists arrived in PostgreSQL 15
        }
        try (CaptureFixture f = new CaptureFixture(pg)) {
            f.sql("CREATE TABLE t (id int PRIMARY KEY, u int NOT NULL UNIQUE, v int)",
                    "INSERT INTO t VALUES (1, 10, 100)",
                    "ALTER TABLE t REPLICA IDENTITY FULL",
                    "CREATE PUBLICATION " + f.publication + " FOR TABLE t (id, v) WITH (publish = 'insert, update, delete')");
            f.capture("public", "t").primaryKey("t", "u");
            ConnectorRun read = f.read();
            assertThat(read.exitCode()).as(read.toString()).isNotZero();
            assertThat(read.records()).isEmpty();
            assertThat(read.error().get("failure_type").asText()).isEqualTo("config_error");
            assertThat(read.error().get("message").asText()).contains("column list", "[u]");
        }
    }
}
