package io.sourcepostgres.backfill;

import static io.sourcepostgres.backfill.MergeFakes.ITEMS;
import static io.sourcepostgres.backfill.MergeFakes.ITEMS_CAPTURED;
import static io.sourcepostgres.backfill.MergeFakes.LOG_CAPTURED;
import static io.sourcepostgres.backfill.MergeFakes.backfilled;
import static io.sourcepostgres.backfill.MergeFakes.changed;
import static io.sourcepostgres.backfill.MergeFakes.deleted;
import static io.sourcepostgres.backfill.MergeFakes.item;
import static io.sourcepostgres.backfill.MergeFakes.itemKey;
import static io.sourcepostgres.backfill.MergeFakes.logBackfilled;
import static io.sourcepostgres.backfill.MergeFakes.logChanged;
import static io.sourcepostgres.backfill.MergeFakes.logRow;
import static org.assertj.core.api.Assertions.assertThat;

import io.sourcepostgres.backfill.MergeFakes.Delete;
import io.sourcepostgres.backfill.MergeFakes.Insert;
import io.sourcepostgres.backfill.MergeFakes.Update;
import io.sourcepostgres.state.StreamProgress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The chunk merge's rules, run against fakes ({@link MergeFakes}): a fake chunk source whose reads the test
 * scripts, fences at known positions, a read-ahead thread the test steps, and a change source that delivers
 * committed transactions as the capture loop does. Each test states the exact RECORDs and STATEs, in order.
 *
 * <p>Positions used throughout: a chunk's low fence is 0x1000 (4096), its high fence 0x2000 (8192), the next
 * chunk's 0x3000 (12288); a change committed between them, at 0x1800 (6144), raced the chunk.
 */
class ChunkMergeTest {
    private static final long LOW = 0x1000;
    private static final long HIGH = 0x2000;
    private static final long RACED = 0x1800;

    /** items (1 a, 2 b, 3 c), backfilled two rows a chunk, from the start. */
    private static MergeFakes items123() {
        MergeFakes f = new MergeFakes(2, Map.of(MergeFakes.items(), StreamProgress.PENDING));
        f.chunks.items.put(1, "a");
        f.chunks.items.put(2, "b");
        f.chunks.items.put(3, "c");
        return f;
    }

    /** Reads the first chunk of items (rows 1 and 2) and writes its fence; the second chunk's read is queued. */
    private static void firstChunkFenced(MergeFakes f) {
        f.merge.readNextChunk();
        f.executor.step();
        f.merge.readNextChunk();
        assertThat(f.merge.awaitingFence()).isTrue();
        assertThat(f.fences.written).containsExactly(HIGH);
    }

    @Test
    void aChangeToARowOfAChunkWaitingForItsFenceRemovesTheRow() {
        MergeFakes f = items123();
        firstChunkFenced(f);

        f.replication.commit(101, RACED, new Update(ITEMS_CAPTURED, null, item(2, "B")));
        assertThat(f.drain()).containsExactly(changed(2, "B", RACED), "STATE items=pending");

        f.replication.keepalive(HIGH);
        // Row 2 of the chunk holds the older image "b": only row 1 goes out, at the chunk's low fence.
        assertThat(f.drain()).containsExactly(backfilled(1, "a", LOW), "STATE items=backfilling after [\"2\"]");
    }

    @Test
    void aDeleteOfAChunkRowRemovesIt() {
        MergeFakes f = items123();
        firstChunkFenced(f);

        f.replication.commit(101, RACED, new Delete(ITEMS_CAPTURED, itemKey(1)));
        f.replication.keepalive(HIGH);

        assertThat(f.drain()).containsExactly(deleted(1, RACED), "STATE items=pending",
                backfilled(2, "b", LOW), "STATE items=backfilling after [\"2\"]");
    }

    @Test
    void aKeyChangeRemovesTheRowUnderItsOldKey() {
        MergeFakes f = items123();
        firstChunkFenced(f);

        // UPDATE items SET id = 10 WHERE id = 2: pgoutput sends the old key ('K') and the new row.
        f.replication.commit(101, RACED, new Update(ITEMS_CAPTURED, itemKey(2), item(10, "b")));
        f.replication.keepalive(HIGH);

        assertThat(f.drain()).containsExactly(deleted(2, RACED), changed(10, "b", RACED), "STATE items=pending",
                backfilled(1, "a", LOW), "STATE items=backfilling after [\"2\"]");
    }

    @Test
    void aChangeDeliveredWhileTheChunkIsReadRemovesItsRowOnceTheReadIsIn() {
        MergeFakes f = items123();
        f.merge.readNextChunk(); // the read is submitted; the reader thread has not run it yet
        assertThat(f.executor.queued()).isEqualTo(1);

        // Committed after the snapshot the read will take (xid 101 is at its xmax): its row in the chunk is older.
        f.replication.commit(101, RACED, new Update(ITEMS_CAPTURED, null, item(1, "A")));
        f.executor.step();
        f.merge.readNextChunk();
        f.replication.keepalive(HIGH);

        assertThat(f.drain()).containsExactly(changed(1, "A", RACED), "STATE items=pending",
                backfilled(2, "b", LOW), "STATE items=backfilling after [\"2\"]");
    }

    @Test
    void aChangeTheSnapshotAlreadyHoldsLeavesTheRowInTheChunk() {
        MergeFakes f = items123();
        f.chunks.snapshot = ChunkSnapshot.parse("100:102:"); // 101 had committed when the chunk was read
        f.merge.readNextChunk();

        // Delivered while the read is in flight, but it committed before the low fence and the snapshot holds it.
        f.replication.commit(101, 0x0f00, new Update(ITEMS_CAPTURED, null, item(1, "a")));
        f.executor.step();
        f.merge.readNextChunk();
        f.replication.keepalive(HIGH);

        assertThat(f.drain()).containsExactly(changed(1, "a", 0x0f00), "STATE items=pending",
                backfilled(1, "a", LOW), backfilled(2, "b", LOW), "STATE items=backfilling after [\"2\"]");
    }

    @Test
    void aChunkWhoseSnapshotListsAnAlreadyDeliveredTransactionAsRunningIsReadAgain() {
        MergeFakes f = items123();
        // Transaction 105 updated row 2 and was delivered before the read began...
        f.replication.commit(105, 0x0f00, new Update(ITEMS_CAPTURED, null, item(2, "B")));
        assertThat(f.drain()).containsExactly(changed(2, "B", 0x0f00), "STATE items=pending");
        // ...but the read's snapshot still saw it running, so the chunk holds row 2's older image.
        f.chunks.items.put(2, "b");
        f.chunks.snapshots.add(ChunkSnapshot.parse("100:106:105"));
        f.merge.readNextChunk();
        f.executor.step();
        f.merge.readNextChunk(); // the raced read is dropped and the chunk read again
        assertThat(f.merge.awaitingFence()).isFalse();
        f.chunks.items.put(2, "B");
        f.chunks.snapshots.add(ChunkSnapshot.parse("100:106:"));
        f.executor.step();
        f.merge.readNextChunk();
        f.replication.keepalive(HIGH);

        assertThat(f.chunks.reads).containsExactly("items after null in 100:106:[105]", "items after null in 100:106:[]");
        assertThat(f.drain()).containsExactly(backfilled(1, "a", LOW), backfilled(2, "B", LOW),
                "STATE items=backfilling after [\"2\"]");
    }

    @Test
    void aChunkWhoseSnapshotEndsBeforeAnAlreadyDeliveredTransactionIsReadAgain() {
        MergeFakes f = items123();
        f.replication.commit(106, 0x0f00, new Update(ITEMS_CAPTURED, null, item(2, "B")));
        f.drain();
        // xmax 106: the snapshot leaves 106 out without listing it (its end was not yet recorded).
        f.chunks.items.put(2, "b");
        f.chunks.snapshots.add(ChunkSnapshot.parse("100:106:"));
        f.merge.readNextChunk();
        f.executor.step();
        f.merge.readNextChunk();
        f.chunks.items.put(2, "B");
        f.chunks.snapshots.add(ChunkSnapshot.parse("100:107:"));
        f.executor.step();
        f.merge.readNextChunk();
        f.replication.keepalive(HIGH);

        assertThat(f.chunks.reads.subList(0, 2)).containsExactly("items after null in 100:106:[]",
                "items after null in 100:107:[]");
        assertThat(f.drain()).containsExactly(backfilled(1, "a", LOW), backfilled(2, "B", LOW),
                "STATE items=backfilling after [\"2\"]");
    }

    @Test
    void aReadThatRacedMoreChangesThanItCanLogIsReadAgainWithReplicationPaused() {
        MergeFakes f = items123();
        f.chunks.snapshots.add(ChunkSnapshot.parse("100:100:"));
        f.chunks.snapshots.add(ChunkSnapshot.parse("100:102:")); // the read again sees 101 committed
        f.merge.readNextChunk();
        // While the read is in flight, 65 rows are inserted: more than the 64 changes a read logs.
        List<MergeFakes.Change> inserts = new ArrayList<>();
        List<String> expected = new ArrayList<>();
        for (int id = 100; id < 165; id++) {
            inserts.add(new Insert(ITEMS_CAPTURED, item(id, "n" + id)));
            expected.add(changed(id, "n" + id, RACED));
        }
        f.replication.commit(101, RACED, inserts.toArray(MergeFakes.Change[]::new));
        expected.add("STATE items=pending");
        assertThat(f.drain()).containsExactlyElementsOf(expected);

        f.executor.step();
        assertThat(f.executor.ranWhileAwaited).isZero();
        f.merge.readNextChunk();
        // Read again within the same call, the capture thread waiting for it: no change could race it.
        assertThat(f.executor.ranWhileAwaited).isEqualTo(1);
        assertThat(f.chunks.reads).containsExactly("items after null in 100:100:[]", "items after null in 100:102:[]");
        assertThat(f.merge.awaitingFence()).isTrue();
        assertThat(f.logs()).contains("DEBUG A chunk of public.items raced more than 64 changes to the table "
                + "while it was read; reading it again with replication paused");

        f.replication.keepalive(HIGH);
        assertThat(f.drain()).containsExactly(backfilled(1, "a", LOW), backfilled(2, "b", LOW),
                "STATE items=backfilling after [\"2\"]");
    }

    @Test
    void passingTheFenceEmitsTheChunkRowsThenMovesTheStreamsProgress() {
        MergeFakes f = items123();
        firstChunkFenced(f);
        assertThat(f.checkpoints.progressOf(ITEMS)).isEqualTo(StreamProgress.PENDING);

        f.replication.keepalive(HIGH - 1); // not yet at the fence: nothing goes out, the progress stays
        assertThat(f.merge.awaitingFence()).isTrue();
        f.checkpoints.emit(); // a state taken now
        assertThat(f.drain()).containsExactly("STATE items=pending");

        f.replication.keepalive(HIGH);
        assertThat(f.drain()).containsExactly(backfilled(1, "a", LOW), backfilled(2, "b", LOW),
                "STATE items=backfilling after [\"2\"]");
        assertThat(f.checkpoints.progressOf(ITEMS).resumeAfter().toString()).isEqualTo("[\"2\"]");
        assertThat(f.checkpoints.progressOf(ITEMS).rowsDone()).isEqualTo(2);
        assertThat(f.merge.awaitingFence()).isFalse();
    }

    @Test
    void theLastChunkMovesTheStreamToActive() {
        MergeFakes f = items123();
        firstChunkFenced(f);
        f.replication.keepalive(HIGH);
        f.drain();

        f.chunks.lowFence = 0x2800;
        f.executor.step(); // the second chunk, read ahead: row 3, fewer rows than asked for, so the last
        f.merge.readNextChunk();
        assertThat(f.fences.written).containsExactly(HIGH, 0x3000L);
        assertThat(f.merge.done()).isFalse();

        f.replication.keepalive(0x3000);
        assertThat(f.drain()).containsExactly(backfilled(3, "c", 0x2800), "STATE items=active");
        assertThat(f.checkpoints.progressOf(ITEMS).phase()).isEqualTo(StreamProgress.Phase.ACTIVE);
        assertThat(f.merge.done()).isTrue();
        assertThat(f.chunks.reads).containsExactly("items after null in 100:100:[]",
                "items after [\"2\"] in 100:100:[]");
    }

    @Test
    void theHighFenceWaitsForTheWritersTheSnapshotSawRunning() {
        MergeFakes f = items123();
        f.chunks.snapshot = ChunkSnapshot.parse("99:100:99");
        f.chunks.writers = List.of(99L);
        f.fences.writersEnded = false;
        f.merge.readNextChunk();
        f.executor.step();
        f.merge.readNextChunk();
        assertThat(f.merge.awaitingFence()).isTrue();
        assertThat(f.fences.written).isEmpty();

        // The writer changed row 2 before the low fence; its commit arrives now and removes the row.
        f.fences.writersEnded = true;
        f.replication.commit(99, 0x0f00, new Update(ITEMS_CAPTURED, null, item(2, "B")));
        assertThat(f.fences.written).containsExactly(HIGH);
        f.replication.keepalive(HIGH);

        assertThat(f.drain()).containsExactly(changed(2, "B", 0x0f00), "STATE items=pending",
                backfilled(1, "a", LOW), "STATE items=backfilling after [\"2\"]");
    }

    @Test
    void aKeylessChunkRacedByAnUpdateOfItsTableIsReadAgainWithReplicationPaused() {
        MergeFakes f = new MergeFakes(2, Map.of(MergeFakes.log(), StreamProgress.PENDING));
        f.chunks.log.add("one");
        f.chunks.log.add("two");
        f.merge.readNextChunk(); // the keyless stream's cut (100:100:) is taken, the first page's read submitted

        // Transaction 120, after the cut, rewrites "two" while the page is read, in a snapshot that misses it.
        f.replication.commit(120, RACED, new Update(LOG_CAPTURED, logRow("two"), logRow("TWO")));
        f.chunks.snapshots.add(ChunkSnapshot.parse("100:120:"));
        f.executor.step();
        f.chunks.log.set(1, "TWO");
        f.chunks.snapshots.add(ChunkSnapshot.parse("100:121:"));
        f.merge.readNextChunk();

        assertThat(f.executor.ranWhileAwaited).isEqualTo(1);
        assertThat(f.chunks.reads).containsExactly(
                "log after [\"ctid\",\"0\",\"0\",\"-1\",\"100:100:\",\"\",\"0\"] in 100:120:[]",
                "log after [\"ctid\",\"0\",\"0\",\"-1\",\"100:100:\",\"\",\"0\"] in 100:121:[]");
        // The page goes out as soon as it is read (no per-chunk fence), with a state; the stream turns active
        // once replication passes the fence written after its last page.
        assertThat(f.fences.written).containsExactly(HIGH);
        f.replication.keepalive(HIGH);
        assertThat(f.drain()).containsExactly(logChanged("TWO", RACED),
                "STATE log=backfilling after [\"ctid\",\"0\",\"0\",\"-1\",\"100:100:\",\"\",\"0\"]",
                logBackfilled("one", LOW), logBackfilled("TWO", LOW),
                "STATE log=backfilling after [\"ctid\",\"1\",\"0\",\"1\",\"100:100:\",\"\",\"0\"]",
                "STATE log=active");
        assertThat(f.merge.done()).isTrue();
    }

    @Test
    void aChangeOfAKeylessTableByATransactionItsCutHoldsIsNotEmitted() {
        // The keyless stream's cut: transactions below 103 but 101 had committed when its backfill started.
        MergeFakes f = new MergeFakes(2, Map.of(MergeFakes.log(), StreamProgress.PENDING),
                new KeylessStart(ChunkSnapshot.parse("100:103:101"), Set.of()));
        f.merge.readNextChunk();

        f.replication.commit(102, 0x0f00, new Insert(LOG_CAPTURED, logRow("in the table already")));
        f.replication.commit(101, 0x0f10, new Insert(LOG_CAPTURED, logRow("after the cut")));

        assertThat(f.drain()).containsExactly(
                "STATE log=backfilling after [\"ctid\",\"0\",\"0\",\"-1\",\"100:103:101\",\"\",\"0\"]",
                logChanged("after the cut", 0x0f10),
                "STATE log=backfilling after [\"ctid\",\"0\",\"0\",\"-1\",\"100:103:101\",\"\",\"0\"]");
    }

    // ---- several small tables in one snapshot behind one pair of fences (SharedChunkRead) -------------------

    private static final CapturedTableRef A = new CapturedTableRef("a", 16400);
    private static final CapturedTableRef B = new CapturedTableRef("b", 16410);
    private static final CapturedTableRef C = new CapturedTableRef("c", 16420);

    private record CapturedTableRef(String name, long oid) {
        BackfillStream stream(long estimatedRows) {
            return MergeFakes.keyed(name, oid, estimatedRows);
        }

        io.sourcepostgres.streams.CapturedTable captured() {
            return MergeFakes.keyedCaptured(name, oid);
        }
    }

    /** Streams in the given order (the queue's), each pending. */
    private static MergeFakes fakes(int chunkRows, BackfillStream... streams) {
        Map<BackfillStream, StreamProgress> m = new java.util.LinkedHashMap<>();
        for (BackfillStream s : streams) {
            m.put(s, StreamProgress.PENDING);
        }
        return new MergeFakes(chunkRows, m);
    }

    /** a (1 a1, 2 a2), b (1 b1), c (1 c1, 2 c2): five rows, estimated right, within one chunk of ten rows. */
    private static MergeFakes threeSmallTables() {
        MergeFakes f = fakes(10, A.stream(2), B.stream(1), C.stream(2));
        f.chunks.keyed.put("a", new java.util.TreeMap<>(Map.of(1, "a1", 2, "a2")));
        f.chunks.keyed.put("b", new java.util.TreeMap<>(Map.of(1, "b1")));
        f.chunks.keyed.put("c", new java.util.TreeMap<>(Map.of(1, "c1", 2, "c2")));
        return f;
    }

    @Test
    void threeSmallTablesAreReadInOneSnapshotBehindOneFenceAndEachRacedChangeRemovesItsOwnTablesRowOnly() {
        MergeFakes f = threeSmallTables();
        f.merge.readNextChunk();
        assertThat(f.executor.queued()).isEqualTo(1); // one read for the three tables
        f.executor.step();
        f.merge.readNextChunk();
        assertThat(f.chunks.reads).containsExactly("shared [a, b, c]", "a after null in 100:100:[]",
                "b after null in 100:100:[]", "c after null in 100:100:[]");
        assertThat(f.fences.written).containsExactly(HIGH); // one high fence for all three

        // Between L and H: row 1 of a and row 2 of c change. b's row 1 and a's row 2 share those keys and stay.
        f.replication.commit(101, RACED, new Update(A.captured(), null, item(1, "A1")),
                new Update(C.captured(), null, item(2, "C2")));
        assertThat(f.drain()).containsExactly(changed("a", 1, "A1", RACED), changed("c", 2, "C2", RACED),
                "STATE a=pending b=pending c=pending");

        f.replication.keepalive(HIGH);
        assertThat(f.drain()).containsExactly(backfilled("a", 2, "a2", LOW), backfilled("b", 1, "b1", LOW),
                backfilled("c", 1, "c1", LOW), "STATE a=active b=active c=active");
        assertThat(f.merge.done()).isTrue();
        assertThat(f.fences.written).containsExactly(HIGH);
        assertThat(f.merge.fencesWritten()).isEqualTo(1);
    }

    @Test
    void theSharedFenceWaitsForAWriterOfAnyOfTheTablesOpenAtTheSnapshot() {
        MergeFakes f = threeSmallTables();
        f.chunks.snapshot = ChunkSnapshot.parse("100:106:105"); // 105 was writing b when the tables were read
        f.chunks.writers = List.of(105L);
        f.fences.writersEnded = false;
        f.merge.readNextChunk();
        f.executor.step();
        f.merge.readNextChunk();
        assertThat(f.merge.awaitingFence()).isTrue();
        assertThat(f.fences.written).isEmpty(); // H waits for 105

        // 105 commits its change to b's row 1 (made before L); it removes that row, and only that one.
        f.replication.commit(105, RACED, new Update(B.captured(), null, item(1, "B1")));
        assertThat(f.fences.written).isEmpty();
        f.fences.writersEnded = true;
        f.replication.keepalive(RACED + 2);
        assertThat(f.fences.written).containsExactly(HIGH);
        f.replication.keepalive(HIGH);

        assertThat(f.drain()).containsExactly(changed("b", 1, "B1", RACED), "STATE a=pending b=pending c=pending",
                backfilled("a", 1, "a1", LOW), backfilled("a", 2, "a2", LOW), backfilled("c", 1, "c1", LOW),
                backfilled("c", 2, "c2", LOW), "STATE a=active b=active c=active");
    }

    /** Steps reads and delivers each fence until the backfill is done. */
    private static void runToEnd(MergeFakes f) {
        for (int i = 0; i < 100 && !f.merge.done(); i++) {
            f.merge.readNextChunk();
            f.executor.step();
            f.merge.readNextChunk();
            if (!f.fences.written.isEmpty()) {
                f.replication.keepalive(f.fences.written.get(f.fences.written.size() - 1));
            }
        }
        assertThat(f.merge.done()).isTrue();
    }

    @Test
    void theLastTableOfAGroupThatDoesNotFitIsReadOnItsOwnInChunks() {
        // Chunks of 4 rows: a and b (1 row each) fit together; c (5 rows) does not and is read on its own; d follows.
        MergeFakes f = fakes(4, A.stream(1), B.stream(1), C.stream(5), new CapturedTableRef("d", 16430).stream(1));
        f.chunks.keyed.put("a", new java.util.TreeMap<>(Map.of(1, "a1")));
        f.chunks.keyed.put("b", new java.util.TreeMap<>(Map.of(1, "b1")));
        f.chunks.keyed.put("c", new java.util.TreeMap<>(Map.of(1, "c1", 2, "c2", 3, "c3", 4, "c4", 5, "c5")));
        f.chunks.keyed.put("d", new java.util.TreeMap<>(Map.of(1, "d1")));
        runToEnd(f);

        assertThat(f.chunks.reads).containsExactly("shared [a, b]", "a after null in 100:100:[]",
                "b after null in 100:100:[]", "c after null in 100:100:[]", "c after [\"4\"] in 100:100:[]",
                "d after null in 100:100:[]");
        assertThat(f.fences.written).hasSize(4);
        List<String> out = f.drain();
        assertThat(out).contains("STATE a=active b=active c=backfilling after [\"4\"] d=pending");
        assertThat(out.stream().filter(l -> l.startsWith("RECORD")).toList()).containsExactly(
                backfilled("a", 1, "a1", LOW), backfilled("b", 1, "b1", LOW),
                backfilled("c", 1, "c1", LOW), backfilled("c", 2, "c2", LOW), backfilled("c", 3, "c3", LOW),
                backfilled("c", 4, "c4", LOW), backfilled("c", 5, "c5", LOW), backfilled("d", 1, "d1", LOW));
    }

    @Test
    void aTableWithMoreRowsThanItsEstimateTakesWhatTheSharedChunkLeavesAndGoesOnOnItsOwnFromItsLastKey() {
        // b is estimated at 1 row but holds 5: the shared read takes 3 of them (4 minus a's 1) and stops there.
        MergeFakes f = fakes(4, A.stream(1), B.stream(1), C.stream(1));
        f.chunks.keyed.put("a", new java.util.TreeMap<>(Map.of(1, "a1")));
        f.chunks.keyed.put("b", new java.util.TreeMap<>(Map.of(1, "b1", 2, "b2", 3, "b3", 4, "b4", 5, "b5")));
        f.chunks.keyed.put("c", new java.util.TreeMap<>(Map.of(1, "c1")));
        f.merge.readNextChunk();
        f.executor.step();
        f.merge.readNextChunk();
        // b's rest goes on at once, on its own, while the shared chunks wait for their fence.
        assertThat(f.executor.queued()).isEqualTo(1);
        f.replication.keepalive(HIGH);
        assertThat(f.drain()).containsExactly(backfilled("a", 1, "a1", LOW), backfilled("b", 1, "b1", LOW),
                backfilled("b", 2, "b2", LOW), backfilled("b", 3, "b3", LOW),
                "STATE a=active b=backfilling after [\"3\"] c=pending");
        runToEnd(f);

        // c was not reached by the shared read (b used up its chunk): it is read after b's rest.
        assertThat(f.chunks.reads).containsExactly("shared [a, b]", "a after null in 100:100:[]",
                "b after null in 100:100:[]", "b after [\"3\"] in 100:100:[]", "c after null in 100:100:[]");
        assertThat(f.drain().stream().filter(l -> l.startsWith("RECORD")).toList()).containsExactly(
                backfilled("b", 4, "b4", LOW), backfilled("b", 5, "b5", LOW), backfilled("c", 1, "c1", LOW));
    }

    @Test
    void aSharedReadThatRacedMoreChangesThanItCanLogIsReadAgainWholeWithReplicationPaused() {
        MergeFakes f = threeSmallTables();
        f.chunks.snapshots.add(ChunkSnapshot.parse("100:100:"));
        f.chunks.snapshots.add(ChunkSnapshot.parse("100:102:")); // the read again sees 101 committed
        f.merge.readNextChunk();
        // While the read is in flight, 65 rows are inserted into c: more than the 64 changes a read logs.
        List<MergeFakes.Change> inserts = new ArrayList<>();
        for (int id = 100; id < 165; id++) {
            inserts.add(new Insert(C.captured(), item(id, "n" + id)));
            f.chunks.keyed.get("c").put(id, "n" + id); // committed, so the read again sees them
        }
        f.replication.commit(101, RACED, inserts.toArray(MergeFakes.Change[]::new));
        f.drain();

        f.executor.step();
        f.merge.readNextChunk();
        assertThat(f.executor.ranWhileAwaited).isEqualTo(1);
        assertThat(f.chunks.reads).containsExactly("shared [a, b, c]", "a after null in 100:100:[]",
                "b after null in 100:100:[]", "c after null in 100:100:[]", "shared [a, b, c]",
                "a after null in 100:102:[]", "b after null in 100:102:[]", "c after null in 100:102:[]");
        assertThat(f.fences.written).containsExactly(HIGH);
        f.replication.keepalive(HIGH);
        List<String> out = f.drain();
        // The read again sees the 65 new rows of c: of its 10 rows a and b take 3, c the 7 left, and goes on alone.
        assertThat(out).startsWith(backfilled("a", 1, "a1", LOW), backfilled("a", 2, "a2", LOW),
                backfilled("b", 1, "b1", LOW), backfilled("c", 1, "c1", LOW), backfilled("c", 2, "c2", LOW));
        assertThat(out).contains("STATE a=active b=active c=backfilling after [\"104\"]");
    }

    @Test
    void aStreamWhoseBackfillStartsOverLeavesTheSharedReadWithoutHoldingUpTheOthers() {
        MergeFakes f = threeSmallTables();
        f.merge.readNextChunk();
        f.executor.step();
        f.merge.readNextChunk();
        assertThat(f.fences.written).containsExactly(HIGH);

        // b's table was truncated (say): its backfill starts over, its waiting chunk is dropped unemitted.
        f.merge.restart(B.stream(1));
        f.replication.keepalive(HIGH);
        assertThat(f.drain()).containsExactly(backfilled("a", 1, "a1", LOW), backfilled("a", 2, "a2", LOW),
                backfilled("c", 1, "c1", LOW), backfilled("c", 2, "c2", LOW), "STATE a=active b=pending c=active");

        runToEnd(f);
        assertThat(f.chunks.reads).endsWith("b after null in 100:100:[]");
        assertThat(f.drain()).containsExactly(backfilled("b", 1, "b1", LOW), "STATE a=active b=active c=active");
    }
}

