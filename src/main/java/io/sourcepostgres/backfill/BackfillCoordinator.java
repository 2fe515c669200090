package io.sourcepostgres.backfill;

import io.sourcepostgres.state.Checkpoints;
import io.sourcepostgres.state.StreamProgress;
import io.sourcepostgres.streams.CapturedTable;
import io.sourcepostgres.streams.ChangeRecordWriter;
import com.fasterxml.jackson.databind.JsonNode;
import io.sourcepostgres.airbyte.LogSink;
import io.sourcepostgres.airbyte.LogLevel;
import io.sourcepostgres.airbyte.StreamId;
import io.sourcepostgres.failpoints.Failpoints;
import io.sourcepostgres.pgoutput.Lsn;
import io.sourcepostgres.pgoutput.TupleData;
import io.sourcepostgres.postgres.SqlFailures;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Future;

/**
 * Runs the backfills alongside replication, one waiting chunk at a time (the next one read ahead), and
 * merges each chunk with the changes that raced it (a watermark scheme after DBLog, with WAL positions as
 * fences):
 *
 * <ol>
 *   <li>take the low fence L (the WAL insert position), then read the chunk in its own snapshot S;
 *   <li>write the high fence H (a logical decoding message) and keep the chunk's rows aside;
 *   <li>while replication catches up to H, every change to a row of the chunk by a transaction that S did
 *       not include, or that committed after L, removes that row from the chunk: the change, emitted in
 *       order, carries the newer image;
 *   <li>once replication has passed H, emit the remaining rows (as current at L: {@code _ab_cdc_lsn} = L)
 *       and record the stream's progress; the STATE that follows resumes the backfill after the chunk.
 * </ol>
 *
 * A chunk whose snapshot did not include a transaction that replication had delivered before the read
 * began (its commit record came before L but it was not yet visible) is read again
 * ({@link RecentTransactions}). And H is only written once
 * the transactions that were already writing the table at S have ended ({@link TableWriters}): one of them
 * may have changed a chunk row before L, and its change must remove that row rather than arrive after the
 * chunk with an older {@code _ab_cdc_lsn}.
 *
 * <p>Chunks are read ahead on a thread of their own ({@link ChunkReadAhead}): the next chunk is being read
 * while the waiting one is fenced and emitted, and changes keep streaming during a read. A change that
 * replication delivers while a chunk is being read cannot yet be checked against its rows, so its key is
 * logged and checked once the read is in; a read that raced more changes than that log may hold is read
 * again with replication paused, so that it cannot race them forever.
 *
 * <p>Small tables share that cost ({@link SharedChunkRead}): after one low fence, the chunks of up to
 * {@link #MAX_TABLES_PER_READ} plain keyed tables whose estimated rows together fit one chunk are read one after the
 * other in one snapshot S, their writers looked up together, and one high fence serves them all. Nothing in the
 * rules above depends on a chunk being the only one read in S: each chunk is merged with the changes to its own
 * table exactly as if read alone, and each table's progress is recorded as before.
 *
 * <p>A table without a key is read by physical location and merged differently: by one start cut per stream
 * rather than per-chunk fences ({@link KeylessBackfills}); its chunks are emitted as soon as they are read,
 * unless an update or delete of the table raced the read, which reads the chunk again with replication paused.
 *
 * <p>The capture loop drives it through {@link ChunkMerge}. It reaches the server only through two narrow
 * seams, {@link ChunkReads} (on the read-ahead thread) and {@link MergeFences} (on the capture thread), so that
 * {@code ChunkMergeTest} runs these rules against fakes, a read at a time.
 */
public final class BackfillCoordinator implements ChunkMerge {
    private static final long PROGRESS_LOG_NANOS = 10_000_000_000L;
    /**
     * Fewest changes to a table that a read in flight logs before it gives up and is read again; above it,
     * a chunk's worth of rows (the log holds keys only, so it stays smaller than the chunk it guards).
     */
    private static final int MIN_LOGGED_CHANGES = 64;
    /**
     * Most tables read in one snapshot behind one pair of fences ({@link SharedChunkRead}). Their rows together stay
     * within one chunk's bounds anyway; this caps the statement that locks them and the writers' lookup.
     */
    static final int MAX_TABLES_PER_READ = 200;

    private final MergeFences fences;
    private final Deque<BackfillStream> queue;
    private final Map<StreamId, ChunkSource> readers = new HashMap<>();
    private final ChunkReadAhead readAhead;
    private final Checkpoints checkpoints;
    private final ChangeRecordWriter records;
    private final RecentTransactions recent;
    private java.util.function.BiConsumer<StreamId, Chunk> chunkObserver = (stream, chunk) -> { };
    private final LogSink out;
    private final int chunkRows;
    private final long chunkBytes;
    private final int maxLoggedChanges;
    private final KeylessBackfills keyless;
    /**
     * The chunks waiting for one high fence, by stream, in read order: one chunk, or the chunks of several small
     * tables read in one snapshot ({@link SharedChunkRead}), which share their low fence, writers and high fence.
     * Null when none waits. Only the last may be unfinished.
     */
    private LinkedHashMap<StreamId, PendingChunk> pending;
    private InFlight inFlight;
    private long lastProgressLog = System.nanoTime();
    private long lastCompletedLog = System.nanoTime();
    private long rowsEmitted;
    private long fencesWritten;
    private int streamsCompleted;

    /** A read under way (of one stream's chunk, or of several small streams' chunks in one snapshot), and the changes to its streams delivered meanwhile. */
    private static final class InFlight {
        final BackfillStream stream;
        final List<BackfillStream> streams;
        final Set<StreamId> ids = new HashSet<>();
        /** Whether it reads several tables in one snapshot ({@link SharedChunkRead}). */
        final boolean shared;
        final Future<List<ChunkReadAhead.Read>> read;
        final boolean replicationPaused;
        /** What replication had delivered when the read was started. */
        final RecentTransactions.Mark delivered;
        List<LoggedChange> changes = new ArrayList<>();
        /** The streams whose backfill started over while this read ran: their rows are dropped. */
        final Set<StreamId> discarded = new HashSet<>();

        InFlight(List<BackfillStream> streams, boolean shared, Future<List<ChunkReadAhead.Read>> read,
                boolean replicationPaused, RecentTransactions.Mark delivered) {
            this.stream = streams.get(0);
            this.streams = streams;
            this.shared = shared;
            this.read = read;
            this.replicationPaused = replicationPaused;
            this.delivered = delivered;
            for (BackfillStream s : streams) {
                ids.add(s.id);
            }
        }

        boolean overflowed() {
            return changes == null;
        }
    }

    private record LoggedChange(StreamId stream, RowKey key, int xid, long commitLsn) {}

    /**
     * @param connection for the fences and the writers' status, used on the capture thread only
     * @param readAhead reads the chunks, on its own thread and connection
     */
    public BackfillCoordinator(Connection connection, ChunkReadAhead readAhead, Deque<BackfillStream> queue,
            Checkpoints checkpoints, ChangeRecordWriter records, RecentTransactions recent, LogSink out,
            int chunkRows, long chunkBytes) {
        this(new JdbcMergeFences(connection, out), readAhead, queue, checkpoints, records, recent, out, chunkRows,
                chunkBytes);
    }

    /** As above, asking the server through {@code fences} (a unit test fakes them). */
    BackfillCoordinator(MergeFences fences, ChunkReadAhead readAhead, Deque<BackfillStream> queue,
            Checkpoints checkpoints, ChangeRecordWriter records, RecentTransactions recent, LogSink out,
            int chunkRows, long chunkBytes) {
        this.fences = fences;
        this.readAhead = readAhead;
        this.queue = new ArrayDeque<>(queue);
        this.checkpoints = checkpoints;
        this.records = records;
        this.recent = recent;
        this.out = out;
        this.chunkRows = chunkRows;
        this.chunkBytes = chunkBytes;
        this.maxLoggedChanges = Math.max(MIN_LOGGED_CHANGES, chunkRows);
        this.keyless = new KeylessBackfills(fences, checkpoints, out);
        for (BackfillStream stream : this.queue) {
            if (stream.replicated && stream.keyless) {
                keyless.start(stream);
            } else if (stream.replicated) {
                StreamProgress progress = checkpoints.progressOf(stream.id);
                if (progress != null && CtidChunkReader.Position.is(progress.resumeAfter())) {
                    // The table gained a key while it was backfilled without one: a keyed backfill starts over.
                    out.log(LogLevel.WARN, "Table " + stream.id + " has a key now, but its backfill was running by "
                            + "physical location: it starts over by key, so rows backfilled so far are emitted again.");
                    checkpoints.progress(stream.id, StreamProgress.PENDING);
                }
            }
        }
    }

    /**
     * Whether a change by transaction {@code xid} to {@code stream} is left out because the stream's keyless
     * backfill already holds its effect.
     */
    @Override
    public boolean suppresses(StreamId stream, int xid) {
        return keyless.suppresses(stream, xid);
    }

    @Override
    public boolean done() {
        return pending == null && inFlight == null && queue.isEmpty() && !keyless.activating();
    }

    public long rowsEmitted() {
        return rowsEmitted;
    }

    /** High fences written so far by keyed backfills (one per read, whether of one table or of several). */
    public long fencesWritten() {
        return fencesWritten;
    }

    /** Whether a chunk waits for replication to pass its high fence. */
    @Override
    public boolean awaitingFence() {
        return pending != null || keyless.activating();
    }

    /**
     * Moves the backfill on without waiting for a read: takes a finished read (emitting the rows of a stream
     * that is not replicated, or making a replicated chunk the waiting one), starts the next read, and
     * writes the waiting chunk's high fence once it may.
     */
    @Override
    public void readNextChunk() {
        while (true) {
            if (inFlight == null) {
                startNextRead();
            }
            if (inFlight == null || pending != null
                    || (!inFlight.replicationPaused && !inFlight.read.isDone())) {
                break; // nothing to read, a chunk still to emit first, or a read still under way
            }
            InFlight f = inFlight;
            inFlight = null;
            List<ChunkReadAhead.Read> taken = ChunkReadAhead.take(f.read);
            if (f.shared) {
                tookShared(f, taken);
                continue;
            }
            ChunkReadAhead.Read read = taken.get(0);
            if (f.discarded.contains(f.stream.id)) {
                continue;
            }
            BackfillStream stream = f.stream;
            if (stream.replicated && stream.keyless) {
                if (keylessRaced(f, read.chunk().snapshot())) {
                    // Emitted now, a row could follow the change that superseded it: read it again, this time with
                    // replication waiting, so that no change can arrive while it is read.
                    inFlight = submit(stream, resumeOf(stream), true);
                    continue;
                }
                emitKeyless(stream, read);
                continue;
            }
            if (!stream.replicated) {
                stream.fullRefreshResume = read.chunk().resumeAfter();
                if (read.chunk().done()) {
                    queue.remove(stream);
                    readers.remove(stream.id);
                }
                startNextRead(); // read the next chunk while this one is written
                emitRows(stream, read.chunk(), read.lowFence(), read.readAtMillis());
                if (read.chunk().done()) {
                    completed(stream);
                }
                continue;
            }
            if (f.overflowed()) {
                // Raced more changes than the log holds: read it again, this time with replication waiting.
                out.log(LogLevel.DEBUG, "A chunk of " + stream.id + " raced more than " + maxLoggedChanges
                        + " changes to the table while it was read; reading it again with replication paused");
                inFlight = submit(stream, resumeOf(stream), true);
                continue;
            }
            if (recent.racedBefore(f.delivered, read.chunk().snapshot())) {
                continue; // raced a commit that was already delivered: read it again
            }
            pending = new LinkedHashMap<>();
            pending.put(stream.id, new PendingChunk(stream, read.chunk(), read.lowFence(), read.readAtMillis(),
                    read.writers()));
            for (LoggedChange c : f.changes) {
                pending.get(stream.id).changed(c.key(), c.xid(), c.commitLsn());
            }
            startNextRead(); // the next chunk is read while this one waits for its fence and is emitted
        }
        fenceIfReady();
    }

    /**
     * Takes a read of several small tables in one snapshot: exactly as a read of one chunk, each chunk checked
     * against the changes to its own table that raced the read, the whole read read again when one check cannot
     * be made (too many changes, or a commit delivered before the read that the snapshot missed). The chunks then
     * wait together for one high fence.
     */
    private void tookShared(InFlight f, List<ChunkReadAhead.Read> reads) {
        List<BackfillStream> kept = new ArrayList<>();
        for (int i = 0; i < reads.size(); i++) {
            if (!f.discarded.contains(f.streams.get(i).id)) {
                kept.add(f.streams.get(i));
            }
        }
        if (kept.isEmpty()) {
            return;
        }
        if (f.overflowed()) {
            out.log(LogLevel.DEBUG, "A read of " + kept.size() + " tables from " + kept.get(0).id + " on raced more than "
                    + maxLoggedChanges + " changes to them while it was read; reading it again with replication paused");
            inFlight = submitShared(kept, true);
            return;
        }
        if (recent.racedBefore(f.delivered, reads.get(0).chunk().snapshot())) {
            return; // raced a commit that was already delivered: read again
        }
        pending = new LinkedHashMap<>();
        for (int i = 0; i < reads.size(); i++) {
            ChunkReadAhead.Read read = reads.get(i);
            BackfillStream stream = f.streams.get(i);
            if (!f.discarded.contains(stream.id)) {
                pending.put(stream.id, new PendingChunk(stream, read.chunk(), read.lowFence(), read.readAtMillis(),
                        read.writers()));
            }
        }
        for (LoggedChange c : f.changes) {
            PendingChunk p = pending.get(c.stream());
            if (p != null) {
                p.changed(c.key(), c.xid(), c.commitLsn());
            }
        }
        startNextRead(); // the next read runs while these chunks wait for their fence and are emitted
    }

    /**
     * Whether a keyless chunk's rows may include one that a change already emitted has updated or deleted: an
     * UPDATE or DELETE of its table, delivered while it was read, by a transaction its snapshot did not include;
     * or any transaction delivered before the read began that the snapshot did not include.
     */
    private boolean keylessRaced(InFlight f, io.sourcepostgres.backfill.ChunkSnapshot snapshot) {
        if (snapshot == null) {
            return false; // nothing was read
        }
        if (f.overflowed() || recent.racedBefore(f.delivered, snapshot)) {
            return true;
        }
        for (LoggedChange c : f.changes) {
            if (!snapshot.includes32(Integer.toUnsignedLong(c.xid()))) {
                return true;
            }
        }
        return false;
    }

    /**
     * An UPDATE or DELETE of a keyless stream's table by transaction {@code xid}: logged while a chunk of it is
     * being read (see {@link #keylessRaced}).
     */
    @Override
    public void keylessRowChanged(StreamId stream, int xid, long commitLsn) {
        InFlight f = inFlight;
        if (f != null && !f.shared && f.stream.replicated && f.stream.keyless && !f.overflowed() && f.stream.id.equals(stream)) {
            if (f.changes.size() >= maxLoggedChanges) {
                f.changes = null;
                return;
            }
            f.changes.add(new LoggedChange(stream, null, xid, commitLsn));
        }
    }

    /**
     * A keyless chunk needs no fence: which row versions it holds is decided by their creators against the
     * stream's start cut, not by when replication passes it. Its rows go out at once and the state records the
     * next page; the finished stream turns active once replication has passed every transaction the cut
     * holds ({@link KeylessBackfills#finished}).
     */
    private void emitKeyless(BackfillStream stream, ChunkReadAhead.Read read) {
        Chunk chunk = read.chunk();
        if (chunk.warning() != null) {
            out.log(LogLevel.WARN, chunk.warning());
        }
        if (chunk.done()) {
            queue.remove(stream);
            readers.remove(stream.id);
            keyless.finished(stream, chunk.resumeAfter(), stream.rowsDone + chunk.size());
        } else {
            StreamProgress known = checkpoints.progressOf(stream.id);
            checkpoints.progress(stream.id, (known != null ? known : StreamProgress.PENDING)
                    .backfilledTo(chunk.resumeAfter(), stream.rowsDone + chunk.size()));
        }
        startNextRead(); // read the next chunk while this one is written
        emitRows(stream, chunk, read.lowFence(), read.readAtMillis());
        if (chunk.done()) {
            completed(stream);
        }
        checkpoints.emit();
    }

    /**
     * Starts the read that follows the waiting chunks: the next chunk of the last of them when it is unfinished,
     * else the next stream in the queue; together with the small streams after it when their estimated rows fit
     * one chunk together ({@link #sharedWith}).
     */
    private void startNextRead() {
        if (inFlight != null) {
            return;
        }
        if (pending != null) {
            PendingChunk last = lastPending();
            if (!last.chunk.done()) {
                inFlight = submit(last.stream, last.chunk.resumeAfter(), false);
                return;
            }
        }
        List<BackfillStream> next = sharedWith();
        if (next.size() > 1) {
            inFlight = submitShared(next, false);
        } else if (!next.isEmpty()) {
            inFlight = submit(next.get(0), resumeOf(next.get(0)), false);
        }
    }

    private PendingChunk lastPending() {
        PendingChunk last = null;
        for (PendingChunk p : pending.values()) {
            last = p;
        }
        return last;
    }

    /**
     * The streams the next read takes: the first stream in the queue that has no chunk waiting, and after it, while
     * their estimated rows together fit one chunk (and at most {@link #MAX_TABLES_PER_READ}), the streams that
     * follow it, up to the first that does not fit, so that a large table never waits behind small ones. Only
     * plain keyed replicated tables the user may lock share a read: a keyless table is merged by its own rules, a
     * partitioned root is read across its partitions, a full refresh needs no fence, and a table without SELECT
     * on all of it cannot be locked before the shared snapshot.
     */
    private List<BackfillStream> sharedWith() {
        List<BackfillStream> next = new ArrayList<>();
        long rows = 0;
        for (BackfillStream s : queue) {
            if (pending != null && pending.containsKey(s.id)) {
                continue;
            }
            long estimate = Math.max(1, s.estimatedRows);
            if (!next.isEmpty() && (!shareable(next.get(0)) || !shareable(s) || rows + estimate > chunkRows
                    || next.size() >= MAX_TABLES_PER_READ)) {
                break;
            }
            next.add(s);
            rows += estimate;
        }
        return next;
    }

    private static boolean shareable(BackfillStream s) {
        io.sourcepostgres.discovery.DiscoveredTable t = s.plan.table();
        return s.replicated && !s.keyless && t.relkind() == 'r' && t.partitions().isEmpty() && t.selectPrivilege();
    }

    /** Where the stream's next read starts when no chunk of it is waiting. */
    private JsonNode resumeOf(BackfillStream stream) {
        if (!stream.replicated) {
            return stream.fullRefreshResume;
        }
        StreamProgress progress = checkpoints.progressOf(stream.id);
        return progress == null ? null : progress.resumeAfter();
    }

    private InFlight submit(BackfillStream stream, JsonNode resumeAfter, boolean replicationPaused) {
        ChunkSource reader = readers.computeIfAbsent(stream.id, id -> readAhead.sourceFor(stream));
        RecentTransactions.Mark delivered = recent.mark(); // before the read can take its snapshot
        return new InFlight(List.of(stream), false, readAhead.submit(stream, reader, resumeAfter, chunkRows, chunkBytes),
                replicationPaused, delivered);
    }

    /** Starts a read of {@code streams}' next chunks in one snapshot, each from where its progress stands. */
    private InFlight submitShared(List<BackfillStream> streams, boolean replicationPaused) {
        List<ChunkSource> sources = new ArrayList<>();
        List<JsonNode> resumes = new ArrayList<>();
        for (BackfillStream s : streams) {
            sources.add(readers.computeIfAbsent(s.id, id -> readAhead.sourceFor(s)));
            resumes.add(resumeOf(s));
        }
        RecentTransactions.Mark delivered = recent.mark(); // before the read can take its snapshot
        return new InFlight(List.copyOf(streams), true,
                readAhead.submitShared(List.copyOf(streams), sources, resumes, chunkRows, chunkBytes), replicationPaused,
                delivered);
    }

    /**
     * Writes the high fence of the waiting chunk once every transaction that was already writing its table
     * when the chunk's snapshot was taken has ended: until then, such a transaction may still commit a
     * change to one of the chunk's rows made before the low fence, which would arrive after the chunk with
     * an older {@code _ab_cdc_lsn}. Their commits, arriving meanwhile, remove the rows they touched.
     */
    private void fenceIfReady() {
        if (pending == null) {
            return;
        }
        PendingChunk first = pending.values().iterator().next();
        // The chunks of one read share their writers (those of all their tables) and so their high fence.
        if (first.highFence == PendingChunk.NO_FENCE && fences.writersEnded(first.writers, first.stream.id)) {
            long high = fence();
            fencesWritten++;
            for (PendingChunk p : pending.values()) {
                p.highFence = high;
            }
        }
    }

    /**
     * Starts {@code fresh}'s backfill over (see {@code capture.BackfillRestarts}): a chunk of the stream that waits
     * for its fence, or is being read, is dropped unemitted, and the stream joins the end of the queue.
     */
    public void restart(BackfillStream fresh) {
        if (pending != null && pending.remove(fresh.id) != null && pending.isEmpty()) {
            pending = null;
        }
        if (inFlight != null && inFlight.ids.contains(fresh.id)) {
            inFlight.discarded.add(fresh.id);
        }
        queue.removeIf(s -> s.id.equals(fresh.id));
        readers.remove(fresh.id);
        queue.addLast(fresh);
    }

    @Override
    public void observeChunks(java.util.function.BiConsumer<StreamId, Chunk> observer) {
        this.chunkObserver = observer;
    }

    /** A replicated change to {@code key} of {@code stream} by transaction {@code xid} committing at {@code commitLsn}. */
    @Override
    public void changed(StreamId stream, TupleData tuple, int[] keyIndexes, int xid, long commitLsn) {
        if (keyIndexes.length == 0) {
            return;
        }
        RowKey key = null;
        PendingChunk waiting = pending == null ? null : pending.get(stream);
        if (waiting != null) {
            key = RowKey.of(tuple, keyIndexes);
            waiting.changed(key, xid, commitLsn);
        }
        InFlight f = inFlight;
        if (f != null && f.stream.replicated && !f.overflowed() && f.ids.contains(stream)) {
            if (f.changes.size() >= maxLoggedChanges) {
                f.changes = null;
                return;
            }
            f.changes.add(new LoggedChange(stream, key != null ? key : RowKey.of(tuple, keyIndexes), xid, commitLsn));
        }
    }

    /**
     * Replication has reached {@code position} at a transaction boundary: emits the waiting chunk if the
     * position has passed its high fence. Returns whether the state changed.
     */
    @Override
    public boolean reached(long position) {
        boolean activated = keyless.reached(position);
        fenceIfReady();
        if (pending == null) {
            return activated;
        }
        long high = pending.values().iterator().next().highFence;
        if (high == PendingChunk.NO_FENCE || Lsn.compare(position, high) < 0) {
            return activated;
        }
        Map<StreamId, PendingChunk> passed = pending;
        pending = null;
        Failpoints.hit(Failpoints.BETWEEN_FENCE_AND_CHUNK_ROWS);
        for (PendingChunk p : passed.values()) {
            chunkObserver.accept(p.stream.id, p.chunk);
            emitRows(p.stream, p.chunk, p.lowFence, p.readAtMillis);
            // Each table's progress exactly as when it is read alone: a restart re-reads at most one chunk of it.
            StreamProgress known = checkpoints.progressOf(p.stream.id);
            StreamProgress before = known != null ? known : StreamProgress.PENDING;
            StreamProgress next = p.chunk.done() ? before.completed()
                    : before.backfilledTo(p.chunk.resumeAfter(), p.stream.rowsDone, p.stream.scanKey);
            checkpoints.progress(p.stream.id, next);
            if (p.chunk.done()) {
                finish(p.stream); // otherwise the stream stays first in the queue for its next chunk
            }
        }
        return true;
    }

    private void emitRows(BackfillStream stream, Chunk chunk, long lsn, long readAtMillis) {
        String readAt = java.time.Instant.ofEpochMilli(readAtMillis).toString();
        if (stream.replanned(chunk.plan())) {
            out.log(LogLevel.WARN, "The columns of " + stream.id + " changed while it was being backfilled: rows from "
                    + "here on are read with its new columns " + chunk.plan().columns().stream()
                            .map(io.sourcepostgres.discovery.ColumnInfo::name).toList() + ". Rows backfilled before the "
                    + "change keep their old columns, and values that the change itself set (a default of an added "
                    + "column, a type change's rewrite) are not in the WAL: reset the stream to backfill it again if "
                    + "the destination needs them.");
        }
        CapturedTable shape = stream.shapeOf(chunk.plan());
        int half = chunk.size() / 2;
        int i = 0;
        for (TupleData row : chunk.rows()) {
            if (i++ == half) {
                Failpoints.hit(Failpoints.MID_CHUNK_EMIT);
            }
            records.write(shape, row, false, lsn, readAt, false, System.currentTimeMillis());
            checkpoints.countRecord();
        }
        stream.rowsDone += chunk.size();
        rowsEmitted += chunk.size();
        logProgress(stream, false);
    }

    private void finish(BackfillStream stream) {
        queue.remove(stream);
        readers.remove(stream.id);
        completed(stream);
    }

    /**
     * A stream's backfill is complete. A stream that took more than a chunk is named at INFO, as ever; thousands of
     * small tables would fill the log a line each, so they are named at DEBUG and counted at INFO every 10 s (and
     * when the last stream is done).
     */
    private void completed(BackfillStream stream) {
        streamsCompleted++;
        if (stream.rowsDoneThisRun() >= chunkRows) {
            logProgress(stream, true);
        } else if (out.isEnabled(LogLevel.DEBUG)) {
            out.log(LogLevel.DEBUG, "Backfill of " + stream.id + " complete: " + stream.rowsDone + " rows");
        }
        long now = System.nanoTime();
        if (now - lastCompletedLog >= PROGRESS_LOG_NANOS || queue.isEmpty()) {
            lastCompletedLog = now;
            out.log(LogLevel.INFO, "Backfill: " + streamsCompleted + " streams complete, " + queue.size() + " to go, "
                    + rowsEmitted + " rows emitted, " + fencesWritten + " fences written");
        }
    }

    private void logProgress(BackfillStream stream, boolean finished) {
        long now = System.nanoTime();
        if (!finished && now - lastProgressLog < PROGRESS_LOG_NANOS) {
            return;
        }
        lastProgressLog = now;
        double seconds = Math.max(0.001, (now - stream.startedNanos) / 1e9);
        String percent = stream.estimatedRows > 0
                ? String.format(java.util.Locale.ROOT, " (%.1f%% of about %d)", Math.min(100.0, 100.0 * stream.rowsDone
                        / stream.estimatedRows), stream.estimatedRows) : "";
        out.log(LogLevel.INFO, (finished ? "Backfill of " + stream.id + " complete: " : "Backfill of " + stream.id + ": ")
                + stream.rowsDone + " rows" + (finished ? "" : percent) + ", "
                + String.format(java.util.Locale.ROOT, "%.0f rows/s", stream.rowsDoneThisRun() / seconds));
    }

    private long fence() {
        try {
            return fences.writeFence();
        } catch (SQLException e) {
            throw SqlFailures.failure("Writing a backfill fence", e);
        }
    }
}
