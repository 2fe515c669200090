package io.sourcepostgres.capture;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sourcepostgres.testing.AppliedRecords;
import io.sourcepostgres.testing.CaptureFixture;
import io.sourcepostgres.testing.Connector;
import io.sourcepostgres.testing.ConnectorRun;
import io.sourcepostgres.testing.PostgresCluster;
import io.sourcepostgres.testing.PostgresExtension;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Updates that leave an out-of-line (TOASTed) value alone, under the default replica identity: PostgreSQL
 * does not send the value, and the table may already hold a later version of the row. Every image emitted
 * must be one the row really had, in history order, and every STATE exact.
 */
@ExtendWith(PostgresExtension.class)
class UnsentToastValuesIT {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    /** 4 kB of md5 text does not compress: with STORAGE EXTERNAL it is always out of line. */
    private static final String BIG = "(SELECT string_agg(md5(? || '.' || g), '') FROM generate_series(1, 128) g)";

    private static CaptureFixture withDocs(PostgresCluster pg, int rows) {
        CaptureFixture f = new CaptureFixture(pg);
        f.sql("CREATE TABLE docs (id int PRIMARY KEY, n int NOT NULL, big text)",
                "ALTER TABLE docs ALTER big SET STORAGE EXTERNAL",
                "CREATE UNLOGGED TABLE docs_history (seq bigserial PRIMARY KEY, id int NOT NULL, image jsonb)",
                "CREATE FUNCTION docs_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                        + "INSERT INTO docs_history (id, image) VALUES (CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END, "
                        + "CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END); RETURN NULL; END $$",
                "CREATE TRIGGER docs_audit AFTER INSERT OR UPDATE OR DELETE ON docs FOR EACH ROW EXECUTE FUNCTION docs_audit()",
                "INSERT INTO docs SELECT i, 0, (SELECT string_agg(md5('init' || i || '.' || g), '') FROM generate_series(1, 128) g)"
                        + " FROM generate_series(1, " + rows + ") i");
        f.capture("public", "docs");
        f.createPublicationAndSlot();
        ConnectorRun first = f.read();
        assertThat(first.exitCode()).as(first.toString()).isZero();
        f.setState(first.states().get(first.states().size() - 1));
        return f;
    }

    private static ConnectorRun readOn(CaptureFixture f) {
        ConnectorRun run = f.read();
        assertThat(run.exitCode()).as(run.toString()).isZero();
        assertThat(run.states()).isNotEmpty();
        f.setState(run.states().get(run.states().size() - 1));
        return run;
    }

    @Test
    void anUpdateWhoseRowWasRewrittenSinceIsNeverEmittedWithTheLaterValue(PostgresCluster pg) throws Exception {
        try (CaptureFixture f = withDocs(pg, 1)) {
            f.sql("UPDATE docs SET n = 1 WHERE id = 1",
                    "UPDATE docs SET n = 2, big = 'rewritten' WHERE id = 1");
            ConnectorRun run = readOn(f);
            assertEveryImageIsRealAndInOrder(f, run.records());
            assertThat(run.records()).last().satisfies(r -> {
                assertThat(r.at("/data/n").asInt()).isEqualTo(2);
                assertThat(r.at("/data/big").asText()).isEqualTo("rewritten");
            });
        }
    }

    @Test
    void anUpdateWhoseRowWasDeletedSinceIsNotInventedAsNull(PostgresCluster pg) throws Exception {
        try (CaptureFixture f = withDocs(pg, 1)) {
            f.sql("UPDATE docs SET n = 1 WHERE id = 1", "DELETE FROM docs WHERE id = 1");
            ConnectorRun run = readOn(f);
            assertEveryImageIsRealAndInOrder(f, run.records());
            assertThat(run.records()).hasSize(1);
            assertThat(run.records().get(0).at("/data/_ab_cdc_deleted_at").isTextual()).isTrue();
            assertThat(run.stdout()).doesNotContain("SOURCE_RETRIEVAL_ERROR");
        }
    }

    @Test
    void aTransactionThatRewritesTheValueLaterEmitsOnlyImagesTheRowHad(PostgresCluster pg) throws Exception {
        try (CaptureFixture f = withDocs(pg, 2)) {
            try (Connection c = connect(f)) {
                c.setAutoCommit(false);
                try (Statement s = c.createStatement()) {
                    s.execute("UPDATE docs SET n = 1 WHERE id = 1");
                    s.execute("UPDATE docs SET n = 1 WHERE id = 2");
                    s.execute("UPDATE docs SET big = 'second', n = 2 WHERE id = 1");
                    s.execute("UPDATE docs SET n = 3 WHERE id = 1");
                }
                c.commit();
            }
            ConnectorRun run = readOn(f);
            assertEveryImageIsRealAndInOrder(f, run.records());
            Map<String, JsonNode> applied = AppliedRecords.apply(run.records(), d -> d.get("id").asText());
            assertThat(applied.get("1").at("/n").asInt()).isEqualTo(3);
            assertThat(applied.get("1").at("/big").asText()).isEqualTo("second");
            assertThat(applied.get("2").at("/n").asInt()).isEqualTo(1);
            assertThat(applied.get("2").at("/big").asText()).hasSize(128 * 32);
        }
    }

    @Test
    void anUpdateInsideASavepointIsEmittedOnceTheStreamPassedItsRead(PostgresCluster pg) throws Exception {
        try (CaptureFixture f = withDocs(pg, 1)) {
            updateInsideASavepoint(f, 7);
            ConnectorRun run = readOn(f);
            assertEveryImageIsRealAndInOrder(f, run.records());
            assertThat(run.records()).hasSize(1);
            assertThat(run.records().get(0).at("/data/n").asInt()).isEqualTo(7);
            assertThat(run.records().get(0).at("/data/big").asText()).hasSize(128 * 32);
            assertThat(recordsAfterLastState(run)).isZero();
        }
    }

    @Test
    void anImageStillWaitingWhenAStateIsWrittenIsEmittedByARunResumingFromThatState(PostgresCluster pg) throws Exception {
        try (CaptureFixture f = withDocs(pg, 1)) {
            updateInsideASavepoint(f, 7);
            ConnectorRun run = readOn(f);
            // The state after the update's commit: the image waits for the stream to pass the read's position.
            JsonNode waiting = run.states().stream().filter(s -> s.at("/global/shared_state/unsent_images").isArray())
                    .findFirst().orElseThrow(() -> new AssertionError("no state carried the waiting image: " + run));
            assertThat(waiting.at("/global/shared_state/unsent_images/0/stream").asText()).isEqualTo("docs");
            assertThat(waiting.at("/global/shared_state/unsent_images/0/key").toString()).isEqualTo("[\"1\"]");

            // An orchestrator that committed that state (and the records before it) and then lost the run.
            f.setState(waiting);
            ConnectorRun resumed = readOn(f);
            assertThat(resumed.records()).as("the waiting image, from the run resuming there").hasSize(1);
            assertThat(resumed.records().get(0).at("/data/n").asInt()).isEqualTo(7);
            assertThat(resumed.records().get(0).at("/data/big").asText()).hasSize(128 * 32);
            assertThat(resumed.states().get(resumed.states().size() - 1).at("/global/shared_state/unsent_images").isMissingNode())
                    .as("nothing waits any more").isTrue();
        }
    }

    /**
     * A backlog of updates to the same row: the first transaction's read finds the backlog's end, and the rest wait
     * for the stream to reach it, by when each but the last was superseded — one read for all of them, and the large
     * value is read only for the image emitted. The last update, in a savepoint, is set aside by that read at a
     * position the stream has already reached (nothing was written since): it must still come out in this run.
     */
    @Test
    void aBacklogOfUpdatesToOneRowIsReadOnceAtItsEndAndDrainedInTheSameRun(PostgresCluster pg) throws Exception {
        try (CaptureFixture f = withDocs(pg, 2)) {
            f.sql("UPDATE docs SET n = 1 WHERE id = 2");
            for (int i = 0; i < 30; i++) {
                f.sql("UPDATE docs SET n = n + 1 WHERE id = 1");
            }
            updateInsideASavepoint(f, 77);
            ConnectorRun run = readOn(f);
            assertEveryImageIsRealAndInOrder(f, run.records());
            Map<String, JsonNode> applied = AppliedRecords.apply(run.records(), d -> d.get("id").asText());
            assertThat(applied.get("1").at("/n").asInt()).isEqualTo(77);
            assertThat(applied.get("1").at("/big").asText()).hasSize(128 * 32);
            assertThat(applied.get("2").at("/n").asInt()).isEqualTo(1);
            assertThat(run.states().get(run.states().size() - 1).at("/global/shared_state/unsent_images").isMissingNode())
                    .as("nothing left waiting for a later run").isTrue();
            assertThat(recordsAfterLastState(run)).isZero();
            // Row 2 at its commit; row 1 at the backlog's end, set aside, read again with its value.
            String summary = run.logs("INFO").stream().filter(m -> m.startsWith("Updates whose unchanged TOASTed values"))
                    .findFirst().orElseThrow(() -> new AssertionError("no summary of the unsent values: " + run));
            assertThat(summary).contains("3 reads of 3 rows, of which 2 read with their values");
        }
    }

    /**
     * A backlog whose deferred images hold far more large values than the heap: 30,000 rows of 4 KB, each updated
     * once in 1000-row transactions, read through the real launcher in a 64 MB heap. The values come a batch at a
     * time, each batch emitted before the next is read (once, all the backlog's images were read before any was
     * emitted: 120 MB of values).
     */
    @Test
    void aBacklogOfLargeRowsIsEmittedABatchAtATimeInASmallHeap(PostgresCluster pg) throws Exception {
        int rows = 30_000;
        try (CaptureFixture f = withDocs(pg, rows)) {
            f.sql("DROP TRIGGER docs_audit ON docs"); // the audit copy of 30,000 large rows is not needed here
            for (int t = 0; t < rows / 1000; t++) {
                f.sql("UPDATE docs SET n = 1 WHERE id BETWEEN " + (t * 1000 + 1) + " AND " + (t * 1000 + 1000));
            }
            ConnectorRun run = Connector.launch(Map.of("SOURCE_POSTGRES_JAVA_OPTS",
                    "-Xms64m -Xmx64m -XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError"), 600, f.args());
            assertThat(run.exitCode()).as(run.toString().substring(0, Math.min(2000, run.toString().length()))).isZero();
            assertThat(run.records()).hasSize(rows).allSatisfy(r -> {
                assertThat(r.at("/data/n").asInt()).isEqualTo(1);
                assertThat(r.at("/data/big").asText()).hasSize(128 * 32);
            });
        }
    }

    @Test
    void aBacklogOfUpdatesToOneLargeRowStillGetsAStateAfterEveryCommit(PostgresCluster pg) throws Exception {
        try (CaptureFixture f = withDocs(pg, 2)) {
            // Each update's read finds the last one's version of row 1, so each image is set aside until the
            // next update supersedes it: at every commit but the last, one image waits.
            try (Connection c = connect(f); Statement s = c.createStatement()) {
                for (int i = 0; i < 300; i++) {
                    s.execute("UPDATE docs SET n = n + 1 WHERE id = 1");
                }
                s.execute("UPDATE docs SET n = 99 WHERE id = 2");
            }
            ConnectorRun run = readOn(f);
            assertThat(run.states()).as("a state per commit while states are small, images waiting or not")
                    .hasSizeGreaterThan(250);
            assertThat(run.states().stream().filter(st -> st.at("/global/shared_state/unsent_images").isArray()))
                    .as("states that carry the image waiting at their commit").hasSizeGreaterThan(250);
            assertEveryImageIsRealAndInOrder(f, run.records());
            assertThat(run.records()).last().satisfies(r -> assertThat(r.at("/data/n").asInt()).isEqualTo(99));
            assertThat(run.records()).filteredOn(r -> r.at("/data/id").asInt() == 1)
                    .extracting(r -> r.at("/data/n").asInt()).containsExactly(300);
        }
    }

    @Test
    void underConstantUpdatesStatesKeepComingAndTheRunEnds(PostgresCluster pg) throws Exception {
        try (CaptureFixture f = withDocs(pg, 20)) {
            AtomicBoolean stop = new AtomicBoolean();
            ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
            Thread writer = new Thread(() -> {
                try (Connection c = connect(f); Statement s = c.createStatement()) {
                    for (int i = 0; !stop.get(); i++) {
                        s.execute("UPDATE docs SET n = n + 1 WHERE id = " + (1 + i % 20));
                        Thread.sleep(2); // paced: the point is that the updates never stop, not how fast they come
                    }
                } catch (Throwable t) {
                    failures.add(t);
                }
            });
            writer.start();
            List<JsonNode> all = new ArrayList<>();
            try {
                // Every run must end although images keep waiting for positions the stream has not reached.
                for (int r = 0; r < 2; r++) {
                    ConnectorRun run = f.launch(300); // the real launcher: a run that never ends fails, not hangs
                    assertThat(run.exitCode()).as(run.toString()).isZero();
                    f.setState(run.states().get(run.states().size() - 1));
                    assertThat(run.states()).as("states while the updates flow").isNotEmpty();
                    all.addAll(run.records());
                }
            } finally {
                stop.set(true);
                writer.join();
            }
            assertThat(failures).isEmpty();
            all.addAll(readOn(f).records());
            assertEveryImageIsRealAndInOrder(f, all);
            assertAppliedEqualsTable(f, all);
        }
    }

    @Test
    void aLargeColumnRenamedAfterTheUpdatesDoesNotStopEveryRun(PostgresCluster pg) throws Exception {
        try (CaptureFixture f = withDocs(pg, 3)) {
            // Row 1's update is resolved at its commit, row 2's (in a savepoint) once the stream passes its read;
            // by the time the connector reads either, the value's column has another name.
            f.sql("UPDATE docs SET n = 1 WHERE id = 1");
            updateInsideASavepoint(f, 2, 2);
            f.sql("ALTER TABLE docs RENAME big TO body", "UPDATE docs SET n = 3 WHERE id = 3");
            ConnectorRun run = readOn(f);
            // The values of rows 1 and 2 cannot be read by their old name: the stream's backfill starts over.
            assertThat(run.logs("WARN")).anySatisfy(m -> assertThat(m).contains("cannot be read any more")
                    .contains("public.docs").contains("backfill starts over"));
            // Each row had one image since the last run (the rename writes none): no record shows another.
            Map<String, String> bodies = new HashMap<>();
            try (Connection c = connect(f); Statement s = c.createStatement();
                    ResultSet rs = s.executeQuery("SELECT id, body FROM docs")) {
                while (rs.next()) {
                    bodies.put(rs.getString(1), rs.getString(2));
                }
            }
            assertThat(run.records()).isNotEmpty().allSatisfy(r -> {
                String id = r.at("/data/id").asText();
                assertThat(r.at("/data/n").asText()).isEqualTo(id);
                assertThat(r.at("/data/body").isMissingNode() ? r.at("/data/big").asText() : r.at("/data/body").asText())
                        .isEqualTo(bodies.get(id));
            });
            assertAppliedEqualsTable(f, run.records());
            ConnectorRun next = readOn(f);
            assertThat(next.records()).as("nothing is left to emit, and the next run does not fail").isEmpty();
            assertThat(next.logs("WARN")).isEmpty();
        }
    }

    @Test
    void compositeKeysOfOddTypesFindTheirRows(PostgresCluster pg) throws Exception {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            f.sql("CREATE TYPE mood AS ENUM ('sad', 'ok')",
                    "CREATE TABLE odd (a text, b uuid, c mood, n int NOT NULL, big text, PRIMARY KEY (a, b, c))",
                    "ALTER TABLE odd ALTER big SET STORAGE EXTERNAL",
                    "INSERT INTO odd SELECT 'k ''' || i || ' ,{}\"', md5(i::text)::uuid, 'ok', 0,"
                            + " (SELECT string_agg(md5(i || '.' || g), '') FROM generate_series(1, 128) g) FROM generate_series(1, 3) i");
            f.capture("public", "odd");
            f.createPublicationAndSlot();
            ConnectorRun first = f.read();
            assertThat(first.exitCode()).as(first.toString()).isZero();
            f.setState(first.states().get(first.states().size() - 1));
            f.sql("UPDATE odd SET n = 1");
            ConnectorRun run = readOn(f);
            assertThat(run.records()).hasSize(3).allSatisfy(r -> {
                assertThat(r.at("/data/n").asInt()).isEqualTo(1);
                assertThat(r.at("/data/big").asText()).hasSize(128 * 32);
            });
        }
    }

    /**
     * Writers race on a few rows: updates leaving the large value alone (plain and inside savepoints), rewrites
     * of it, deletes and re-inserts, while runs resume one after another from the last state. Every emitted
     * image must be one the row had, in history order, and the applied records must equal the table.
     */
    @Test
    void racingUpdatesRewritesAndDeletesOnlyEverEmitRealImagesInOrder(PostgresCluster pg) throws Exception {
        int rows = 20;
        try (CaptureFixture f = withDocs(pg, rows)) {
            List<JsonNode> all = new ArrayList<>();
            ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
            AtomicBoolean stop = new AtomicBoolean();
            List<Thread> writers = new ArrayList<>();
            for (int w = 0; w < 4; w++) {
                int kind = w;
                Thread t = new Thread(() -> write(f, kind, rows, stop, failures), "writer-" + w);
                t.start();
                writers.add(t);
            }
            try {
                for (int run = 0; run < 6; run++) {
                    all.addAll(readOn(f).records());
                }
            } finally {
                stop.set(true);
                for (Thread t : writers) {
                    t.join();
                }
            }
            assertThat(failures).isEmpty();
            all.addAll(readOn(f).records());
            assertEveryImageIsRealAndInOrder(f, all);
            assertAppliedEqualsTable(f, all);
        }
    }

    /** Sets row 1's n inside a released SAVEPOINT: the row version's xmin is then the subtransaction's. */
    private static void updateInsideASavepoint(CaptureFixture f, int n) throws Exception {
        updateInsideASavepoint(f, 1, n);
    }

    /** Sets row {@code id}'s n inside a released SAVEPOINT: the row version's xmin is then the subtransaction's. */
    private static void updateInsideASavepoint(CaptureFixture f, int id, int n) throws Exception {
        try (Connection c = connect(f)) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.execute("SAVEPOINT a");
                s.execute("UPDATE docs SET n = " + n + " WHERE id = " + id);
                s.execute("RELEASE SAVEPOINT a");
            }
            c.commit();
        }
    }

    /** Upserting and deleting {@code records} by id gives exactly the rows of docs. */
    private static void assertAppliedEqualsTable(CaptureFixture f, List<JsonNode> records) throws Exception {
        Map<String, JsonNode> applied = AppliedRecords.apply(records, d -> d.get("id").asText());
        Map<String, String> table = new HashMap<>();
        try (Connection c = connect(f); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT id, to_jsonb(d)::text FROM docs d")) {
            while (rs.next()) {
                table.put(rs.getString(1), rs.getString(2));
            }
        }
        assertThat(applied.keySet()).containsExactlyInAnyOrderElementsOf(table.keySet());
        for (Map.Entry<String, String> e : table.entrySet()) {
            assertThat(applied.get(e.getKey())).as("row %s", e.getKey()).isEqualTo(MAPPER.readTree(e.getValue()));
        }
    }

    private static void write(CaptureFixture f, int kind, int rows, AtomicBoolean stop, ConcurrentLinkedQueue<Throwable> failures) {
        Random random = new Random(kind);
        try (Connection c = connect(f)) {
            int i = 0;
            while (!stop.get() && i++ < 3000) {
                int id = 1 + random.nextInt(rows);
                try (Statement s = c.createStatement()) {
                    switch (kind) {
                        case 0 -> s.execute("UPDATE docs SET n = n + 1 WHERE id = " + id);
                        case 1 -> {
                            try (PreparedStatement ps = c.prepareStatement("UPDATE docs SET n = n + 1, big = " + BIG + " WHERE id = ?")) {
                                ps.setString(1, "w" + i);
                                ps.setInt(2, id);
                                ps.execute();
                            }
                        }
                        case 2 -> {
                            s.execute("DELETE FROM docs WHERE id = " + id);
                            try (PreparedStatement ps = c.prepareStatement(
                                    "INSERT INTO docs VALUES (?, 0, " + BIG + ") ON CONFLICT DO NOTHING")) {
                                ps.setInt(1, id);
                                ps.setString(2, "re" + i);
                                ps.execute();
                            }
                        }
                        default -> {
                            c.setAutoCommit(false);
                            s.execute("SAVEPOINT a");
                            s.execute("UPDATE docs SET n = n + 100 WHERE id = " + id);
                            s.execute("RELEASE SAVEPOINT a");
                            s.execute("UPDATE docs SET n = n + 1 WHERE id = " + (1 + random.nextInt(rows)));
                            c.commit();
                            c.setAutoCommit(true);
                        }
                    }
                }
            }
        } catch (Throwable e) {
            failures.add(e);
        }
    }

    /** Per key, the emitted images are a subsequence of the audited history, and the LSN never decreases. */
    private static void assertEveryImageIsRealAndInOrder(CaptureFixture f, List<JsonNode> records) throws Exception {
        Map<String, List<Long>> seqs = new HashMap<>();
        Map<String, List<JsonNode>> images = new HashMap<>();
        try (Connection c = connect(f); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT id, seq, image::text FROM docs_history ORDER BY seq")) {
            while (rs.next()) {
                seqs.computeIfAbsent(rs.getString(1), k -> new ArrayList<>()).add(rs.getLong(2));
                String image = rs.getString(3);
                images.computeIfAbsent(rs.getString(1), k -> new ArrayList<>()).add(image == null ? null : MAPPER.readTree(image));
            }
        }
        Map<String, Integer> at = new HashMap<>();
        AppliedRecords.LsnOrder lsnOrder = new AppliedRecords.LsnOrder();
        for (JsonNode r : records) {
            JsonNode data = r.get("data");
            String id = data.get("id").asText();
            boolean delete = AppliedRecords.isDelete(data);
            lsnOrder.check(id, r);
            List<JsonNode> history = images.getOrDefault(id, List.of());
            int from = at.getOrDefault(id, -1);
            int found = -1;
            for (int h = Math.max(0, from); h < history.size(); h++) {
                JsonNode real = history.get(h);
                if (delete ? real == null : real != null && real.equals(image(data))) {
                    found = h;
                    break;
                }
            }
            assertThat(found).as("image of key %s is one the row had, after the last one emitted (#%d): %s", id, from,
                    shorten(data)).isGreaterThanOrEqualTo(0);
            at.put(id, found);
        }
    }

    private static JsonNode image(JsonNode data) {
        return AppliedRecords.withoutCdc(data);
    }

    private static String shorten(JsonNode data) {
        String s = data.toString();
        return s.length() > 300 ? s.substring(0, 300) + "…" : s;
    }

    private static long recordsAfterLastState(ConnectorRun run) {
        long after = 0;
        for (JsonNode m : run.messages()) {
            if ("RECORD".equals(m.get("type").asText())) {
                after++;
            } else if ("STATE".equals(m.get("type").asText())) {
                after = 0;
            }
        }
        return after;
    }

    private static Connection connect(CaptureFixture f) throws Exception {
        return f.pg.connect(f.database);
    }
}
