package io.sourcepostgres.capture;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcepostgres.testing.AppliedRecords;
import io.sourcepostgres.testing.CaptureFixture;
import io.sourcepostgres.testing.ConnectorProcess;
import io.sourcepostgres.testing.ConnectorRun;
import io.sourcepostgres.testing.PostgresCluster;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Two-phase commit: a prepared transaction is a writer with no session (its locks have no pid) that ends
 * only when someone runs COMMIT PREPARED or ROLLBACK PREPARED, maybe never.
 */
class PreparedTransactionsIT {
    private static PostgresCluster pg;

    @BeforeAll
    static void start() {
        pg = PostgresCluster.start(PostgresCluster.options().set("max_prepared_transactions", "10"));
    }

    @AfterAll
    static void stop() {
        pg.close();
    }

    /** A prepared transaction left behind by a failed test would keep its database from being dropped. */
    @AfterEach
    void rollBackLeftovers() throws Exception {
        List<String[]> left = new ArrayList<>();
        try (Connection c = pg.connect(); Statement s = c.createStatement();
                java.sql.ResultSet rs = s.executeQuery("SELECT database, gid FROM pg_prepared_xacts")) {
            while (rs.next()) {
                left.add(new String[] {rs.getString(1), rs.getString(2)});
            }
        }
        for (String[] p : left) {
            try (Connection c = pg.connect(p[0]); Statement s = c.createStatement()) {
                s.execute("ROLLBACK PREPARED '" + p[1] + "'");
            }
        }
    }

    @Test
    void aBackfillWaitsForAPreparedWriterAndNamesItSoTheKeysLsnNeverGoesBack() throws Exception {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            f.sql("CREATE TABLE t (id int PRIMARY KEY, v text)",
                    "INSERT INTO t SELECT g, 'initial' FROM generate_series(1, 10) g");
            f.capture("public", "t");
            f.createPublicationAndSlot();
            try (Connection c = pg.connect(f.database); Statement s = c.createStatement()) {
                s.execute("BEGIN");
                s.execute("UPDATE t SET v = 'prepared' WHERE id = 5");
                s.execute("PREPARE TRANSACTION 'p1'");
            }
            List<JsonNode> records = new ArrayList<>();
            try (ConnectorProcess run = ConnectorProcess.builder(f.args()).start()) {
                JsonNode warning = run.await(m -> "LOG".equals(m.at("/type").asText())
                                && m.at("/log/message").asText().contains("gid 'p1'"), Duration.ofSeconds(60),
                        "a warning naming the prepared transaction");
                assertThat(warning.at("/log/level").asText()).isEqualTo("WARN");
                assertThat(warning.at("/log/message").asText()).contains("COMMIT PREPARED");
                f.sql("COMMIT PREPARED 'p1'");
                ConnectorRun done = run.finish(Duration.ofSeconds(120));
                assertThat(done.exitCode()).as(done.toString()).isZero();
                records.addAll(done.records());
                f.setState(done.states().get(done.states().size() - 1));
            }
            ConnectorRun next = f.read();
            assertThat(next.exitCode()).as(next.toString()).isZero();
            records.addAll(next.records());
            // Applying everything gives the table, and no key's _ab_cdc_lsn goes back (checked by apply).
            Map<String, JsonNode> applied = AppliedRecords.apply(records, d -> d.get("id").asText());
            assertThat(applied).hasSize(10);
            assertThat(applied.get("5").get("v").asText()).isEqualTo("prepared");
        }
    }

    @Test
    void creatingTheSlotNamesThePreparedTransactionsItWaitsFor() throws Exception {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            f.sql("CREATE TABLE w (id int PRIMARY KEY)");
            f.capture("public", "w");
            try (Connection c = pg.connect(f.database); Statement s = c.createStatement()) {
                s.execute("BEGIN");
                s.execute("INSERT INTO w VALUES (1)");
                s.execute("PREPARE TRANSACTION 'forgotten'");
            }
            try (ConnectorProcess run = ConnectorProcess.builder(f.args()).start()) {
                JsonNode warning = run.await(m -> "LOG".equals(m.at("/type").asText())
                                && m.at("/log/message").asText().contains("gid 'forgotten'"), Duration.ofSeconds(60),
                        "a warning naming the prepared transaction slot creation waits for");
                assertThat(warning.at("/log/message").asText()).contains("Creating replication slot")
                        .contains("ROLLBACK PREPARED");
                f.sql("ROLLBACK PREPARED 'forgotten'");
                ConnectorRun done = run.finish(Duration.ofSeconds(120));
                assertThat(done.exitCode()).as(done.toString()).isZero();
            }
        }
    }
}
