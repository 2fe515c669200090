package io.sourcepostgres.capture;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Tables without a primary key: backfilled by physical location (ctid pages; on 12 and 13 through a TID list),
 * resumable, and merged with their change events by the start cut so that no row version is emitted twice or
 * lost, under concurrent writers, subtransactions and a rewrite of the table's file.
 */
@ExtendWith(PostgresExtension.class)
class KeylessIT {

    private static List<JsonNode> records(ConnectorRun run, String stream) {
        return run.records().stream().filter(r -> r.get("stream").asText().equals(stream)).toList();
    }

    private static List<Long> longs(List<JsonNode> records, String column) {
        return records.stream().map(r -> r.at("/data/" + column).asLong()).collect(Collectors.toList());
    }

    /** The records a destination commits of a run: those before its last STATE. */
    private static List<JsonNode> committed(List<JsonNode> messages) {
        List<JsonNode> committed = new ArrayList<>();
        List<JsonNode> pending = new ArrayList<>();
        for (JsonNode m : messages) {
            if (m.path("type").asText().equals("RECORD")) {
                pending.add(m.get("record"));
            } else if (m.path("type").asText().equals("STATE")) {
                committed.addAll(pending);
                pending.clear();
            }
        }
        return committed;
    }

    private static JsonNode lastState(List<JsonNode> messages) {
        JsonNode last = null;
        for (JsonNode m : messages) {
            if (m.path("type").asText().equals("STATE")) {
                last = m.get("state");
            }
        }
        return last;
    }

    @Test
    void aKeylessTableIsBackfilledByPageResumablyThenItsInsertsFollow(PostgresCluster pg) {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            f.sql("CREATE TABLE nokey (n bigint, pad text)",
                    "INSERT INTO nokey SELECT g, repeat('x', 200) FROM generate_series(1, 3000) g");
            f.capture("public", "nokey");
            f.config().put("backfill_chunk_size", 200);
            ConnectorRun run = f.read();
            assertThat(run.exitCode()).as(run.toString()).isZero();
            List<Long> all = longs(records(run, "nokey"), "n");
            assertThat(all).hasSize(3000).doesNotHaveDuplicates();
            assertThat(run.states().size()).as("a state after each chunk").isGreaterThan(5);
            JsonNode last = run.states().get(run.states().size() - 1);
            assertThat(last.at("/global/stream_states/0/stream_state/phase").asText()).isEqualTo("active");

            // Resume from a state in the middle of the backfill: the rest of the pages, each row once.
            JsonNode middle = null;
            int before = 0;
            List<JsonNode> messages = run.messages();
            for (int i = 0, records = 0; i < messages.size(); i++) {
                JsonNode m = messages.get(i);
                if (m.path("type").asText().equals("RECORD")) {
                    records++;
                } else if (m.path("type").asText().equals("STATE") && records > 1000 && middle == null) {
                    middle = m.get("state");
                    before = records;
                }
            }
            assertThat(middle.at("/global/stream_states/0/stream_state/resume_after/0").asText()).isEqualTo("ctid");
            f.setState(middle);
            ConnectorRun resumed = f.read();
            assertThat(resumed.exitCode()).as(resumed.toString()).isZero();
            List<Long> rest = longs(records(resumed, "nokey"), "n");
            assertThat(rest).hasSize(3000 - before);
            List<Long> union = new ArrayList<>(all.subList(0, before));
            union.addAll(rest);
            assertThat(union).containsExactlyInAnyOrderElementsOf(all);

            f.sql("INSERT INTO nokey VALUES (3001, 'new')");
            ConnectorRun next = f.read();
            assertThat(longs(records(next, "nokey"), "n")).containsExactly(3001L);
        }
    }

    @Test
    void aKeylessTableSwappedInUnderItsNameAfterItsBackfillIsBackfilledAgain(PostgresCluster pg) {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            f.sql("CREATE TABLE swapped (n int, v text)", "INSERT INTO swapped SELECT g, 'old' FROM generate_series(1, 40) g");
            f.capture("public", "swapped");
            f.config().put("backfill_chunk_size", 15);
            f.createPublicationAndSlot();
            ConnectorRun first = f.read();
            assertThat(first.exitCode()).as(first.toString()).isZero();
            assertThat(records(first, "swapped")).hasSize(40);
            JsonNode entry = f.state().at("/global/stream_states/0/stream_state");
            assertThat(entry.path("phase").asText()).isEqualTo("active");
            assertThat(entry.path("relation_oid").asLong())
                    .as("the finished keyless stream still records which table it read").isPositive();

            // A bulk reload swapped in under the name: none of its rows is in the replication stream.
            f.sql("CREATE TABLE swapped_new (n int, v text)",
                    "INSERT INTO swapped_new SELECT g, 'reloaded' FROM generate_series(1, 25) g",
                    "ALTER TABLE swapped RENAME TO swapped_old", "ALTER TABLE swapped_new RENAME TO swapped",
                    "DROP TABLE swapped_old");
            ConnectorRun second = f.read();
            assertThat(second.exitCode()).as(second.toString()).isZero();
            assertThat(second.ofType("LOG").stream().map(m -> m.at("/log/message").asText()))
                    .anyMatch(m -> m.contains("public.swapped") && m.contains("dropped and recreated"));
            assertThat(records(second, "swapped")).extracting(r -> r.at("/data/v").asText())
                    .hasSize(25).containsOnly("reloaded");
        }
    }

    @Test
    void replicaIdentityFullGivesUpdatesAndDeletesAndAKeylessFullRefreshReadsEveryRow(PostgresCluster pg) {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            f.sql("CREATE TABLE hist (n int, v text)", "ALTER TABLE hist REPLICA IDENTITY FULL",
                    "INSERT INTO hist VALUES (1, 'a'), (2, 'b')", "CREATE TABLE snap (n int)",
                    "INSERT INTO snap SELECT generate_series(1, 500)");
            f.capture("public", "hist").capture("public", "snap").fullRefresh("snap");
            f.config().put("backfill_chunk_size", 50);
            ConnectorRun first = f.read();
            assertThat(first.exitCode()).as(first.toString()).isZero();
            assertThat(longs(records(first, "hist"), "n")).containsExactlyInAnyOrder(1L, 2L);
            assertThat(longs(records(first, "snap"), "n")).hasSize(500).doesNotHaveDuplicates();
            f.sql("UPDATE hist SET v = 'c' WHERE n = 1", "DELETE FROM hist WHERE n = 2");
            ConnectorRun second = f.read();
            List<JsonNode> hist = records(second, "hist");
            assertThat(hist).hasSize(2);
            assertThat(hist.get(0).at("/data/v").asText()).isEqualTo("c");
            assertThat(hist.get(0).at("/data/_ab_cdc_deleted_at").isNull()).isTrue();
            assertThat(hist.get(1).at("/data/n").asInt()).isEqualTo(2);
            assertThat(hist.get(1).at("/data/v").asText()).as("the whole old row").isEqualTo("b");
            assertThat(hist.get(1).at("/data/_ab_cdc_deleted_at").isNull()).isFalse();
            assertThat(longs(records(second, "snap"), "n")).hasSize(500);
        }
    }

    @Test
    void aKeylessPartitionedTableIsReadLeafByLeafIntoItsRootsStream(PostgresCluster pg) {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            f.sql("CREATE TABLE parts (n int, region text) PARTITION BY LIST (region)",
                    "CREATE TABLE parts_a PARTITION OF parts FOR VALUES IN ('a')",
                    "CREATE TABLE parts_b PARTITION OF parts FOR VALUES IN ('b') PARTITION BY RANGE (n)",
                    "CREATE TABLE parts_b1 PARTITION OF parts_b FOR VALUES FROM (0) TO (1000)",
                    "CREATE TABLE parts_rest PARTITION OF parts DEFAULT",
                    "INSERT INTO parts SELECT g, (ARRAY['a', 'b', 'c'])[1 + g % 3] FROM generate_series(1, 900) g");
            f.capture("public", "parts");
            f.config().put("backfill_chunk_size", 100);
            ConnectorRun run = f.read();
            assertThat(run.exitCode()).as(run.toString()).isZero();
            List<Long> all = longs(records(run, "parts"), "n");
            assertThat(all).hasSize(900).doesNotHaveDuplicates();

            JsonNode middle = null;
            int before = 0;
            List<JsonNode> messages = run.messages();
            for (int i = 0, records = 0; i < messages.size(); i++) {
                JsonNode m = messages.get(i);
                if (m.path("type").asText().equals("RECORD")) {
                    records++;
                } else if (m.path("type").asText().equals("STATE") && records > 450 && middle == null) {
                    middle = m.get("state");
                    before = records;
                }
            }
            f.setState(middle);
            ConnectorRun resumed = f.read();
            List<Long> union = new ArrayList<>(all.subList(0, before));
            union.addAll(longs(records(resumed, "parts"), "n"));
            assertThat(union).as("resumed in the middle of a leaf").containsExactlyInAnyOrderElementsOf(all);

            f.sql("INSERT INTO parts VALUES (901, 'b'), (902, 'z')");
            assertThat(longs(records(f.read(), "parts"), "n")).containsExactly(901L, 902L);
        }
    }

    /**
     * A keyless root's history follows its partitions: one attached with rows between runs, one attached while a run
     * streams (noticed there, backfilled at the next run's start: a keyless backfill never starts over inside a run),
     * one detached (a WARN naming it). Rows the root already held are emitted again by such a backfill, as the README
     * says; the attached rows are all there.
     */
    @Test
    void aKeylessPartitionedRootFollowsPartitionsAttachedBetweenAndDuringRunsAndDetached(PostgresCluster pg)
            throws Exception {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            f.sql("CREATE TABLE parts (n int, region text) PARTITION BY LIST (region)",
                    "CREATE TABLE parts_a PARTITION OF parts FOR VALUES IN ('a')",
                    "INSERT INTO parts SELECT g, 'a' FROM generate_series(1, 100) g");
            f.capture("public", "parts");
            assertThat(longs(records(f.read(), "parts"), "n")).hasSize(100);

            f.sql("CREATE TABLE parts_c (n int, region text)",
                    "INSERT INTO parts_c SELECT g, 'c' FROM generate_series(1001, 1050) g",
                    "ALTER TABLE parts ATTACH PARTITION parts_c FOR VALUES IN ('c')");
            ConnectorRun second = f.read();
            assertThat(second.exitCode()).as(second.toString()).isZero();
            assertThat(second.logs("INFO")).anyMatch(m -> m.contains("parts_c"));
            assertThat(longs(records(second, "parts"), "n")).as("the root read again, the attached rows with it")
                    .hasSize(150).containsAll(range(1001, 1050));

            f.config().put("tail", true);
            try (ConnectorProcess p = ConnectorProcess.builder(f.args()).start()) {
                p.await(m -> m.path("type").asText().equals("STATE"), Duration.ofMinutes(3), "the first STATE");
                f.sql("CREATE TABLE parts_d (n int, region text)",
                        "INSERT INTO parts_d SELECT g, 'd' FROM generate_series(2001, 2030) g",
                        "ALTER TABLE parts ATTACH PARTITION parts_d FOR VALUES IN ('d')",
                        "INSERT INTO parts VALUES (3000, 'a')");
                p.await(m -> m.at("/record/data/n").asInt() == 3000, Duration.ofMinutes(3), "the row written after the attach");
                p.await(m -> m.at("/log/level").asText().equals("WARN") && m.at("/log/message").asText().contains("parts_d")
                        && m.at("/log/message").asText().contains("next run"), Duration.ofMinutes(3),
                        "a WARN naming the attached partition and when it is read");
                p.terminate();
                ConnectorRun third = p.finish(Duration.ofMinutes(3));
                f.setState(lastState(third.messages()));
            }
            f.config().put("tail", false);
            ConnectorRun fourth = f.read();
            assertThat(fourth.exitCode()).as(fourth.toString()).isZero();
            assertThat(longs(records(fourth, "parts"), "n")).as("backfilled again at this run's start")
                    .containsAll(range(1, 100)).containsAll(range(1001, 1050)).containsAll(range(2001, 2030)).contains(3000L);

            f.sql("ALTER TABLE parts DETACH PARTITION parts_c");
            ConnectorRun fifth = f.read();
            assertThat(fifth.exitCode()).as(fifth.toString()).isZero();
            assertThat(fifth.logs("WARN")).anyMatch(m -> m.contains("parts_c") && m.contains("detached"));
            f.sql("INSERT INTO parts_c VALUES (4000, 'c')", "INSERT INTO parts VALUES (4001, 'a')");
            assertThat(longs(records(f.read(), "parts"), "n")).containsExactly(4001L);
        }
    }

    private static List<Long> range(long from, long to) {
        return java.util.stream.LongStream.rangeClosed(from, to).boxed().toList();
    }

    @Test
    void aKeyAddedOrDroppedDuringTheBackfillStartsItOverWithAWarningInsteadOfStoppingTheRun(PostgresCluster pg) {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            f.sql("CREATE TABLE flip (n int NOT NULL)", "INSERT INTO flip SELECT generate_series(1, 600)");
            f.capture("public", "flip");
            f.config().put("backfill_chunk_size", 100);
            ConnectorRun keyless = f.read();
            JsonNode byLocation = keyless.states().stream()
                    .filter(st -> !st.at("/global/stream_states/0/stream_state/resume_after/3").asText("-1").equals("-1"))
                    .findFirst().orElseThrow();
            f.sql("ALTER TABLE flip ADD PRIMARY KEY (n)");
            f.setState(byLocation);
            ConnectorRun keyed = f.read();
            assertThat(keyed.exitCode()).as(keyed.toString()).isZero();
            assertThat(keyed.ofType("LOG").stream().map(l -> l.at("/log/message").asText()))
                    .anyMatch(m -> m.contains("has a key now") || m.contains("starts over from its first row"));
            assertThat(longs(records(keyed, "flip"), "n")).hasSize(600);

            JsonNode byKey = keyed.states().stream()
                    .filter(st -> st.at("/global/stream_states/0/stream_state/phase").asText().equals("backfilling"))
                    .findFirst().orElseThrow();
            f.sql("ALTER TABLE flip DROP CONSTRAINT flip_pkey");
            f.setState(byKey);
            ConnectorRun again = f.read();
            assertThat(again.exitCode()).as(again.toString()).isZero();
            assertThat(again.ofType("LOG").stream().map(l -> l.at("/log/message").asText()))
                    .anyMatch(m -> m.contains("has no primary key any more") || m.contains("starts over from its first row"));
            assertThat(longs(records(again, "flip"), "n")).hasSize(600).doesNotHaveDuplicates();
        }
    }

    /**
     * A row written by a subtransaction of a transaction that was running when the cut was taken carries the
     * subtransaction's id as its xmin, which the snapshot's text form does not list: judged by the snapshot
     * alone it would look older than the cut, be backfilled, and be emitted a second time by its insert.
     */
    @Test
    void aRowWrittenInASubtransactionOfATransactionRunningAtTheCutIsEmittedOnce(PostgresCluster pg) throws Exception {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            f.sql("CREATE TABLE sub (n int)", "CREATE TABLE other (n int)",
                    "INSERT INTO sub SELECT generate_series(1, 100)");
            f.capture("public", "sub");
            f.createPublicationAndSlot();
            try (Connection t = pg.connect(f.database); Statement st = t.createStatement()) {
                t.setAutoCommit(false);
                st.execute("INSERT INTO other VALUES (0)");
                st.execute("SAVEPOINT s");
                st.execute("INSERT INTO other VALUES (1)"); // the subtransaction gets its id
                f.sql("INSERT INTO other VALUES (2)"); // a later transaction ends: the snapshot's xmax passes that id
                ConnectorRun first = f.read(); // takes the cut while the transaction runs
                assertThat(first.exitCode()).as(first.toString()).isZero();
                JsonNode cutState = first.states().stream()
                        .filter(m -> m.at("/global/stream_states/0/stream_state/resume_after/0").asText().equals("ctid"))
                        .findFirst().orElseThrow().deepCopy();
                // As if that run had stopped before reading a page: the next one reads them all with the same cut.
                com.fasterxml.jackson.databind.node.ArrayNode resume = (com.fasterxml.jackson.databind.node.ArrayNode)
                        cutState.at("/global/stream_states/0/stream_state/resume_after");
                resume.set(1, "0");
                resume.set(2, "0");
                st.execute("INSERT INTO sub VALUES (101)"); // xmin: the subtransaction's id
                t.commit();
                f.setState(cutState);
            }
            ConnectorRun run = f.read();
            assertThat(run.exitCode()).as(run.toString()).isZero();
            List<Long> n = longs(records(run, "sub"), "n");
            assertThat(n).as("each row once").hasSize(101).doesNotHaveDuplicates();
        }
    }

    @Test
    void aRewriteOfTheTableDuringItsBackfillStartsItOverWithAWarning(PostgresCluster pg) {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            f.sql("CREATE TABLE rw (n int, pad text)",
                    "INSERT INTO rw SELECT g, repeat('y', 100) FROM generate_series(1, 2000) g",
                    "DELETE FROM rw WHERE n % 2 = 0");
            f.capture("public", "rw");
            f.config().put("backfill_chunk_size", 100);
            ConnectorRun full = f.read();
            JsonNode middle = full.states().stream()
                    .filter(st -> !st.at("/global/stream_states/0/stream_state/resume_after/3").asText("-1").equals("-1"))
                    .skip(2).findFirst().orElseThrow();
            assertThat(middle.at("/global/stream_states/0/stream_state/phase").asText()).isEqualTo("backfilling");
            f.sql("VACUUM FULL rw");
            f.setState(middle);
            ConnectorRun again = f.read();
            assertThat(again.exitCode()).as(again.toString()).isZero();
            assertThat(again.ofType("LOG").stream().map(l -> l.at("/log/message").asText())
                    .filter(m -> m.contains("was rewritten") && m.contains("public.rw")).toList()).hasSize(1);
            assertThat(longs(records(again, "rw"), "n")).as("every row, from the first page")
                    .hasSize(1000).doesNotHaveDuplicates();
        }
    }

    /**
     * Writers insert, update and delete (some inside savepoints, some rolled back) on two keyless tables while
     * a series of runs backfills them, each run started from the previous one's last state, some stopped in
     * the middle. What the destination committed must be exact: on the insert-only table every row once; on
     * the REPLICA IDENTITY FULL table every row version (each write sets a unique {@code v}) at most once, and
     * replaying the history by {@code id} gives the table.
     */
    @Test
    void concurrentWritersOnKeylessTablesNeitherLoseNorDoubleARowVersion(PostgresCluster pg) throws Exception {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            f.sql("CREATE SEQUENCE vs", "CREATE TABLE ins (id bigint, pad text)",
                    "CREATE TABLE ful (id bigint, v bigint, pad text)", "ALTER TABLE ful REPLICA IDENTITY FULL",
                    "INSERT INTO ins SELECT g, repeat('p', 50) FROM generate_series(1, 20000) g",
                    "INSERT INTO ful SELECT g, nextval('vs'), repeat('q', 50) FROM generate_series(1, 20000) g");
            f.capture("public", "ins").capture("public", "ful");
            f.config().put("backfill_chunk_size", 500);
            f.createPublicationAndSlot();
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong nextId = new AtomicLong(1_000_000);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            List<Thread> writers = new ArrayList<>();
            for (int w = 0; w < 3; w++) {
                long seed = 42 + w;
                Thread t = new Thread(() -> write(pg, f.database, seed, stop, nextId, failure));
                t.start();
                writers.add(t);
            }
            List<JsonNode> destination = new ArrayList<>();
            int runs = 0;
            try {
                while (runs < 12) {
                    runs++;
                    try (ConnectorProcess p = ConnectorProcess.builder(f.args()).start()) {
                        List<JsonNode> messages;
                        if (runs <= 2) {
                            // Killed once a few more chunks are out: the destination keeps what preceded its last STATE.
                            p.await(m -> m.path("type").asText().equals("STATE")
                                    && m.at("/state/global/stream_states").findValuesAsText("phase").contains("backfilling")
                                    && p.messages().stream().filter(x -> x.path("type").asText().equals("RECORD")).count() > 1500,
                                    Duration.ofSeconds(300), "STATE after 1500 records");
                            messages = p.messages();
                            p.close();
                        } else {
                            ConnectorRun run = p.finish(Duration.ofSeconds(300));
                            assertThat(run.exitCode()).as("run %d: %s", runs, run).isZero();
                            messages = run.messages();
                        }
                        destination.addAll(committed(messages));
                        JsonNode state = lastState(messages);
                        if (state != null) {
                            f.setState(state);
                        }
                        boolean active = state != null && state.at("/global/stream_states").findValuesAsText("phase")
                                .stream().allMatch("active"::equals);
                        if (active && runs >= 4) {
                            break;
                        }
                    }
                }
            } finally {
                stop.set(true);
                for (Thread t : writers) {
                    t.join();
                }
            }
            assertThat(failure.get()).as("writers").isNull();
            ConnectorRun last = f.read(); // catch up with what the writers did last
            assertThat(last.exitCode()).as(last.toString()).isZero();
            destination.addAll(committed(last.messages()));

            Map<String, List<JsonNode>> byStream = destination.stream()
                    .collect(Collectors.groupingBy(r -> r.get("stream").asText()));
            List<Long> insIds = longs(byStream.get("ins"), "id");
            assertThat(insIds).as("insert-only rows, each once").doesNotHaveDuplicates();
            assertThat(insIds).containsExactlyInAnyOrderElementsOf(column(pg, f.database, "SELECT id FROM ins"));

            List<JsonNode> ful = byStream.get("ful");
            List<Long> versions = ful.stream().filter(r -> r.at("/data/_ab_cdc_deleted_at").isNull())
                    .map(r -> r.at("/data/v").asLong()).toList();
            assertThat(versions).as("row versions, each at most once").doesNotHaveDuplicates();
            List<Long> deletes = ful.stream().filter(r -> !r.at("/data/_ab_cdc_deleted_at").isNull())
                    .map(r -> r.at("/data/v").asLong()).toList();
            assertThat(deletes).as("deleted versions, each at most once").doesNotHaveDuplicates();
            Map<Long, Long> replay = new HashMap<>();
            for (JsonNode r : ful) {
                long id = r.at("/data/id").asLong();
                if (r.at("/data/_ab_cdc_deleted_at").isNull()) {
                    replay.put(id, r.at("/data/v").asLong());
                } else if (replay.get(id) != null && replay.get(id) == r.at("/data/v").asLong()) {
                    replay.remove(id);
                } else {
                    replay.remove(id); // a row deleted before its page was read: its delete is all the history has
                }
            }
            Map<Long, Long> source = new HashMap<>();
            try (Connection c = pg.connect(f.database); Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery("SELECT id, v FROM ful")) {
                while (rs.next()) {
                    source.put(rs.getLong(1), rs.getLong(2));
                }
            }
            assertThat(replay).as("the history replayed by id").isEqualTo(source);
        }
    }

    private static List<Long> column(PostgresCluster pg, String database, String sql) throws Exception {
        List<Long> values = new ArrayList<>();
        try (Connection c = pg.connect(database); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                values.add(rs.getLong(1));
            }
        }
        return values;
    }

    private static void write(PostgresCluster pg, String database, long seed, AtomicBoolean stop, AtomicLong nextId,
            AtomicReference<Throwable> failure) {
        Random random = new Random(seed);
        try (Connection c = pg.connect(database); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            while (!stop.get()) {
                int statements = 1 + random.nextInt(4);
                boolean savepoint = statements > 1 && random.nextInt(3) == 0;
                for (int i = 0; i < statements; i++) {
                    if (savepoint && i == 1) {
                        st.execute("SAVEPOINT sp");
                    }
                    long id = 1 + random.nextInt(20000);
                    switch (random.nextInt(5)) {
                        case 0 -> st.execute("INSERT INTO ins VALUES (" + nextId.incrementAndGet() + ", 'w')");
                        case 1 -> st.execute("INSERT INTO ful VALUES (" + nextId.incrementAndGet() + ", nextval('vs'), 'w')");
                        case 2, 3 -> st.execute("UPDATE ful SET v = nextval('vs') WHERE id = " + id);
                        default -> st.execute("DELETE FROM ful WHERE id = " + id);
                    }
                }
                if (savepoint && random.nextBoolean()) {
                    st.execute("ROLLBACK TO SAVEPOINT sp");
                }
                if (random.nextInt(10) == 0) {
                    c.rollback();
                } else {
                    c.commit();
                }
                Thread.sleep(2);
            }
        } catch (Throwable e) {
            failure.compareAndSet(null, e);
        }
    }
}
