package io.sourcepostgres.capture;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcepostgres.testing.CaptureFixture;
import io.sourcepostgres.testing.ConnectorRun;
import io.sourcepostgres.testing.PostgresCluster;
import io.sourcepostgres.testing.PostgresExtension;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The replication path end to end: records, states, positions, termination. */
@ExtendWith(PostgresExtension.class)
class ReplicationIT {

    @Test
    void changesBecomeRecordsInCommitOrderEachCommitFollowedByState(PostgresCluster pg) {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            f.sql("CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, price numeric(10,2))");
            f.capture("public", "items");
            ConnectorRun first = f.read();
            assertThat(first.exitCode()).as(first.toString()).isZero();
            assertThat(first.records()).isEmpty();

            f.sql("INSERT INTO items VALUES (1, 'apple', 1.50), (2, 'pear', 2.00)");
            f.sql("UPDATE items SET price = 1.75 WHERE id = 1");
            f.sql("DELETE FROM items WHERE id = 2");
            f.sql("BEGIN; INSERT INTO items VALUES (3, 'fig', NULL); UPDATE items SET name = 'figs' WHERE id = 3; COMMIT");

            ConnectorRun run = f.read();
            assertThat(run.exitCode()).as(run.toString()).isZero();
            List<JsonNode> records = run.records();
            assertThat(records).extracting(r -> r.at("/data/id").asInt()).containsExactly(1, 2, 1, 2, 3, 3);
            assertThat(records.get(0).at("/data/name").asText()).isEqualTo("apple");
            assertThat(records.get(2).at("/data/price").asText()).isEqualTo("1.75");
            assertThat(records.get(3).at("/data/_ab_cdc_deleted_at").isTextual()).isTrue();
            assertThat(records.get(4).at("/data/price").isNull()).isTrue();
            assertThat(records.get(5).at("/data/name").asText()).isEqualTo("figs");
            for (JsonNode r : records) {
                assertThat(r.get("namespace").asText()).isEqualTo("public");
                assertThat(r.get("stream").asText()).isEqualTo("items");
                assertThat(r.at("/data/_ab_cdc_lsn").isIntegralNumber()).isTrue();
                assertThat(r.at("/data/_ab_cdc_updated_at").asText()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d+)?Z");
            }
            long previous = 0;
            for (JsonNode r : records) {
                assertThat(r.at("/data/_ab_cdc_lsn").asLong()).isGreaterThan(previous);
                previous = r.at("/data/_ab_cdc_lsn").asLong();
            }

            // Every commit is followed by a STATE before the next transaction's records.
            List<String> shape = new ArrayList<>();
            for (JsonNode m : run.messages()) {
                String type = m.get("type").asText();
                if (type.equals("RECORD") || type.equals("STATE")) {
                    shape.add(type.equals("RECORD") ? "R" : "S");
                }
            }
            // The position may also move (a STATE with no records) across WAL decoded between or before the commits.
            assertThat(String.join("", shape).replaceAll("S+", "S").replaceFirst("^S", "")).startsWith("RRSRSRSRRS");
            for (JsonNode s : run.states()) {
                assertThat(s.get("type").asText()).isEqualTo("GLOBAL");
                assertThat(s.at("/sourceStats/recordCount").isNumber()).isTrue();
            }
            assertThat(run.states().stream().mapToDouble(st -> st.at("/sourceStats/recordCount").asDouble())
                    .filter(c -> c > 0).findFirst().orElseThrow()).isEqualTo(2.0);
        }
    }

    @Test
    void streamStatusesGoStartedRunningComplete(PostgresCluster pg) {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            f.sql("CREATE TABLE a (id int PRIMARY KEY)", "CREATE TABLE b (id int PRIMARY KEY)");
            f.capture("public", "a").capture("public", "b");
            ConnectorRun run = f.read();
            assertThat(run.exitCode()).as(run.toString()).isZero();
            for (String table : List.of("a", "b")) {
                List<String> statuses = run.traces("STREAM_STATUS").stream()
                        .filter(t -> t.at("/stream_status/stream_descriptor/name").asText().equals(table))
                        .map(t -> t.at("/stream_status/status").asText()).toList();
                assertThat(statuses).containsExactly("STARTED", "RUNNING", "COMPLETE");
            }
        }
    }

    @Test
    void anIdleRunEndsWithOneStateAndNothingElse(PostgresCluster pg) {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            f.sql("CREATE TABLE t (id int PRIMARY KEY)");
            f.capture("public", "t");
            assertThat(f.read().exitCode()).isZero();
            ConnectorRun idle = f.read();
            assertThat(idle.exitCode()).as(idle.toString()).isZero();
            assertThat(idle.records()).isEmpty();
            assertThat(idle.states()).isNotEmpty();
        }
    }

    @Test
    void aRunWhoseLastTransactionsTouchOnlyUncapturedTablesStillEnds(PostgresCluster pg) {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            f.sql("CREATE TABLE captured (id int PRIMARY KEY)", "CREATE TABLE other (id int PRIMARY KEY)");
            f.capture("public", "captured");
            assertThat(f.read().exitCode()).isZero();
            f.sql("INSERT INTO captured VALUES (1)");
            f.sql("INSERT INTO other SELECT g FROM generate_series(1, 1000) g");
            ConnectorRun run = f.read();
            assertThat(run.exitCode()).as(run.toString()).isZero();
            assertThat(run.records()).extracting(r -> r.get("stream").asText()).containsExactly("captured");
        }
    }

    @Test
    void busyUncapturedTablesStillMoveTheSlotAtTheNextRun(PostgresCluster pg) {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            f.sql("CREATE TABLE captured (id int PRIMARY KEY)", "CREATE TABLE busy (id int PRIMARY KEY, pad text)");
            f.capture("public", "captured");
            assertThat(f.read().exitCode()).isZero();
            for (int i = 0; i < 20; i++) {
                f.sql("INSERT INTO busy SELECT g, repeat('x', 200) FROM generate_series(" + (i * 1000 + 1) + ", "
                        + ((i + 1) * 1000) + ") g");
            }
            long walAfterWrites = CaptureFixture.lsn(f.scalar("SELECT pg_current_wal_flush_lsn()::text"));
            ConnectorRun run = f.read();
            assertThat(run.exitCode()).as(run.toString()).isZero();
            assertThat(run.records()).isEmpty();
            long endPosition = CaptureFixture.lsn(f.state().at("/global/shared_state/position").asText());
            assertThat(Long.compareUnsigned(endPosition, walAfterWrites)).isGreaterThanOrEqualTo(0);

            ConnectorRun next = f.read();
            assertThat(next.exitCode()).as(next.toString()).isZero();
            long confirmed = CaptureFixture.lsn(f.slotConfirmedFlush());
            assertThat(Long.compareUnsigned(confirmed, endPosition)).isGreaterThanOrEqualTo(0);
        }
    }

    @Test
    void theSlotIsOnlyToldThePositionOfTheStateTheRunWasGiven(PostgresCluster pg) {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            f.sql("CREATE TABLE t (id int PRIMARY KEY)");
            f.capture("public", "t");
            assertThat(f.read().exitCode()).isZero();
            String given = f.state().at("/global/shared_state/position").asText();
            f.sql("INSERT INTO t SELECT generate_series(1, 100)");
            ConnectorRun run = f.read();
            assertThat(run.records()).hasSize(100);
            String emitted = f.state().at("/global/shared_state/position").asText();
            assertThat(CaptureFixture.lsn(emitted)).isGreaterThan(CaptureFixture.lsn(given));
            // The run emitted newer states, but the orchestrator had only stored the one it started with.
            assertThat(CaptureFixture.lsn(f.slotConfirmedFlush())).isEqualTo(CaptureFixture.lsn(given));
        }
    }

    @Test
    void aRestartFromAStateEmitsNothingFromBeforeIt(PostgresCluster pg) {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            f.sql("CREATE TABLE t (id int PRIMARY KEY)");
            f.capture("public", "t");
            assertThat(f.read().exitCode()).isZero();
            f.sql("INSERT INTO t VALUES (1)", "INSERT INTO t VALUES (2)");
            assertThat(f.read().records()).hasSize(2);
            f.sql("INSERT INTO t VALUES (3)");
            ConnectorRun run = f.read();
            assertThat(run.records()).extracting(r -> r.at("/data/id").asInt()).containsExactly(3);
        }
    }

    @Test
    void aTransactionAcrossManyTablesStaysTogetherBeforeItsState(PostgresCluster pg) {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            for (int i = 0; i < 10; i++) {
                f.sql("CREATE TABLE t" + i + " (id int PRIMARY KEY)");
                f.capture("public", "t" + i);
            }
            assertThat(f.read().exitCode()).isZero();
            StringBuilder tx = new StringBuilder("BEGIN;");
            for (int i = 0; i < 10; i++) {
                tx.append("INSERT INTO t").append(i).append(" VALUES (").append(i).append(");");
            }
            f.sql(tx.append("COMMIT").toString());
            ConnectorRun run = f.read();
            List<String> shape = new ArrayList<>();
            for (JsonNode m : run.messages()) {
                if (m.get("type").asText().equals("RECORD")) {
                    shape.add(m.at("/record/stream").asText());
                } else if (m.get("type").asText().equals("STATE")) {
                    shape.add("STATE");
                }
            }
            // A STATE may come first: the walsender may report a position it read up to before it reached the commit.
            int first = shape.indexOf("t0");
            assertThat(first).isNotNegative();
            assertThat(shape.subList(0, first)).allMatch("STATE"::equals);
            assertThat(shape.subList(first, first + 11))
                    .containsExactly("t0", "t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8", "t9", "STATE");
        }
    }
}
