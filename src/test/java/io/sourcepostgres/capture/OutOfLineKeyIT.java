package io.sourcepostgres.capture;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcepostgres.testing.AppliedRecords;
import io.sourcepostgres.testing.CaptureFixture;
import io.sourcepostgres.testing.ConnectorProcess;
import io.sourcepostgres.testing.ConnectorRun;
import io.sourcepostgres.testing.PostgresCluster;
import io.sourcepostgres.testing.PostgresExtension;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A text primary key stored out of line ({@code SET STORAGE EXTERNAL}, longer than the ~2 KB TOAST threshold):
 * an UPDATE that leaves the key alone sends the old key ('K', since the identity has external values) and the
 * new tuple's key as unchanged TOAST ('u'). That is the same key, not a key change: no delete may be emitted,
 * and the backfill merge must be able to read it. A key that really changes while long is a delete of the old
 * key and an upsert of the new one. Both through the real launcher, live (tail) and from a backlog that
 * races a backfill.
 */
@ExtendWith(PostgresExtension.class)
class OutOfLineKeyIT {
    private static final int KEY_LENGTH = 2400; // past the TOAST threshold, within a btree entry's limit

    private static String key(String tag) {
        return "k".repeat(KEY_LENGTH - tag.length()) + tag;
    }

    private static String keySql(String tag) {
        return "repeat('k', " + (KEY_LENGTH - tag.length()) + ") || '" + tag + "'";
    }

    private static void createTable(CaptureFixture f, int rows) {
        f.sql("CREATE TABLE tk (k text PRIMARY KEY, v int NOT NULL, note text)",
                "ALTER TABLE tk ALTER k SET STORAGE EXTERNAL",
                "INSERT INTO tk SELECT repeat('k', " + KEY_LENGTH + " - length(g::text)) || g, 1, 'row ' || g"
                        + " FROM generate_series(1, " + rows + ") g");
        // the key really is stored out of line
        assertThat(f.scalar("SELECT pg_relation_size(reltoastrelid) > 0 FROM pg_class WHERE oid = 'tk'::regclass"))
                .as("the keys are in the TOAST table").isEqualTo("t");
    }

    /** The table as a destination should hold it: key -> "v|note". */
    private static Map<String, String> table(CaptureFixture f) throws Exception {
        Map<String, String> rows = new TreeMap<>();
        try (Connection c = f.pg.connect(f.database); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT k, v, note FROM tk")) {
            while (rs.next()) {
                rows.put(rs.getString(1), rs.getInt(2) + "|" + rs.getString(3));
            }
        }
        return rows;
    }

    private static Map<String, String> applied(List<JsonNode> records) {
        Map<String, String> rows = new TreeMap<>();
        AppliedRecords.apply(records, d -> d.get("k").asText())
                .forEach((k, d) -> rows.put(k, d.get("v").asInt() + "|" + d.get("note").asText()));
        return rows;
    }

    private static List<JsonNode> deletes(List<JsonNode> records) {
        return records.stream().filter(r -> r.at("/data/_ab_cdc_deleted_at").isTextual()).toList();
    }

    @Test
    void liveUpdatesLeavingTheKeyAloneAreNotKeyChanges(PostgresCluster pg) throws Exception {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            createTable(f, 3);
            f.capture("public", "tk");
            ConnectorRun backfill = f.launch(120);
            assertThat(backfill.exitCode()).as(backfill.toString()).isZero();
            assertThat(backfill.records()).hasSize(3);

            f.config().put("tail", true);
            List<JsonNode> records = new ArrayList<>(backfill.records());
            try (ConnectorProcess p = ConnectorProcess.builder(f.args()).start()) {
                p.await(m -> "TRACE".equals(m.path("type").asText())
                        && "RUNNING".equals(m.at("/trace/stream_status/status").asText()), Duration.ofSeconds(60),
                        "RUNNING status");
                f.sql("UPDATE tk SET v = 2 WHERE k = " + keySql("1"),
                        "UPDATE tk SET k = " + keySql("new") + ", v = 3 WHERE k = " + keySql("2"),
                        "UPDATE tk SET note = 'last' WHERE k = " + keySql("3"));
                p.await(m -> "RECORD".equals(m.path("type").asText()) && "last".equals(m.at("/record/data/note").asText()),
                        Duration.ofSeconds(60), "record of the last update");
                p.terminate();
                ConnectorRun live = p.finish(Duration.ofSeconds(60));
                assertThat(live.exitCode()).as(live.toString()).isZero();
                List<JsonNode> changes = live.records();
                // one upsert per unchanged key, a delete and an upsert for the changed one
                assertThat(changes).hasSize(4);
                assertThat(deletes(changes)).extracting(r -> r.at("/data/k").asText()).containsExactly(key("2"));
                assertThat(changes.get(0).at("/data/k").asText()).isEqualTo(key("1"));
                assertThat(changes.get(0).at("/data/v").asInt()).isEqualTo(2);
                assertThat(changes.get(2).at("/data/k").asText()).isEqualTo(key("new"));
                records.addAll(changes);
            }
            assertThat(applied(records)).isEqualTo(table(f));
        }
    }

    @Test
    void aBacklogOfSuchUpdatesRacingTheBackfillIsCaptured(PostgresCluster pg) throws Exception {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            f.createPublicationAndSlot();
            // Everything below is in the slot's backlog when the first run starts, and is replicated while the
            // backfill (one row per chunk) has chunks of the same table waiting or being read.
            createTable(f, 40);
            for (int i = 1; i <= 40; i += 3) {
                f.sql("UPDATE tk SET v = v + 1 WHERE k = " + keySql(Integer.toString(i)));
            }
            f.sql("UPDATE tk SET k = " + keySql("moved") + " WHERE k = " + keySql("2"),
                    "DELETE FROM tk WHERE k = " + keySql("5"));
            f.capture("public", "tk");
            f.config().put("backfill_chunk_size", 1);
            ConnectorRun run = f.launch(180);
            assertThat(run.exitCode()).as(run.toString()).isZero();
            assertThat(applied(run.records())).isEqualTo(table(f));
            // no delete of a key that only had its other columns updated
            assertThat(deletes(run.records())).extracting(r -> r.at("/data/k").asText())
                    .allMatch(k -> k.equals(key("2")) || k.equals(key("5")));

            // and a later run, from the state, streams such updates too
            f.sql("UPDATE tk SET v = 9 WHERE k = " + keySql("7"));
            ConnectorRun next = f.launch(120);
            assertThat(next.exitCode()).as(next.toString()).isZero();
            assertThat(next.records()).hasSize(1);
            assertThat(deletes(next.records())).isEmpty();
            List<JsonNode> all = new ArrayList<>(run.records());
            all.addAll(next.records());
            assertThat(applied(all)).isEqualTo(table(f));
        }
    }
}
