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
import java.util.Iterator;
import java.util.List;
import java.util.Map;
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
    private PendingChunk pending;
    private InFlight inFlight;
    private long lastProgressLog = System.nanoTime();
    private long rowsEmitted;

    /** A chunk being read, and the changes to its stream delivered meanwhile. */
    private static final class InFlight {
        final BackfillStream stream;
        final Future<ChunkReadAhead.Read> read;
        final boolean replicationPaused;
        /** What replication had delivered when the read was started. */
        final RecentTransactions.Mark delivered;
        List<LoggedChange> changes = new ArrayList<>();
        /** Set when the stream's backfill started over while this read ran: its rows are dropped. */
        boolean discarded;

        InFlight(BackfillStream stream, Future<ChunkReadAhead.Read> read, boolean replicationPaused,
                RecentTransactions.Mark delivered) {
            this.stream = stream;
            this.read = read;
            this.replicationPaused = replicationPaused;
            this.delivered = delivered;
        }

        boolean overflowed() {
            return changes == null;
        }
    }

    private record LoggedChange(RowKey key, int xid, long commitLsn) {}

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
            ChunkReadAhead.Read read = ChunkReadAhead.take(f.read);
            if (f.discarded) {
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
                    logProgress(stream, true);
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
            pending = new PendingChunk(stream, read.chunk(), read.lowFence(), read.readAtMillis(), read.writers());
            for (LoggedChange c : f.changes) {
                pending.changed(c.key(), c.xid(), c.commitLsn());
            }
            startNextRead(); // the next chunk is read while this one waits for its fence and is emitted
        }
        fenceIfReady();
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
        if (f != null && f.stream.replicated && f.stream.keyless && !f.overflowed() && f.stream.id.equals(stream)) {
            if (f.changes.size() >= maxLoggedChanges) {
                f.changes = null;
                return;
            }
            f.changes.add(new LoggedChange(null, xid, commitLsn));
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
            logProgress(stream, true);
        }
        checkpoints.emit();
    }

    /** Starts reading the chunk that follows the waiting one, or the first stream's next chunk. */
    private void startNextRead() {
        if (inFlight != null) {
            return;
        }
        if (pending != null) {
            if (!pending.chunk.done()) {
                inFlight = submit(pending.stream, pending.chunk.resumeAfter(), false);
                return;
            }
            Iterator<BackfillStream> it = queue.iterator();
            it.next(); // the waiting chunk's stream
            if (it.hasNext()) {
                BackfillStream next = it.next();
                inFlight = submit(next, resumeOf(next), false);
            }
            return;
        }
        BackfillStream first = queue.peekFirst();
        if (first != null) {
            inFlight = submit(first, resumeOf(first), false);
        }
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
        return new InFlight(stream, readAhead.submit(stream, reader, resumeAfter, chunkRows, chunkBytes), replicationPaused,
                delivered);
    }

    /**
     * Writes the high fence of the waiting chunk once every transaction that was already writing its table
     * when the chunk's snapshot was taken has ended: until then, such a transaction may still commit a
     * change to one of the chunk's rows made before the low fence, which would arrive after the chunk with
     * an older {@code _ab_cdc_lsn}. Their commits, arriving meanwhile, remove the rows they touched.
     */
    private void fenceIfReady() {
        if (pending != null && pending.highFence == PendingChunk.NO_FENCE
                && fences.writersEnded(pending.writers, pending.stream.id)) {
            pending.highFence = fence();
        }
    }

    /**
     * Starts {@code fresh}'s backfill over (see {@code capture.BackfillRestarts}): a chunk of the stream that waits
     * for its fence, or is being read, is dropped unemitted, and the stream joins the end of the queue.
     */
    public void restart(BackfillStream fresh) {
        if (pending != null && pending.stream.id.equals(fresh.id)) {
            pending = null;
        }
        if (inFlight != null && inFlight.stream.id.equals(fresh.id)) {
            inFlight.discarded = true;
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
        if (pending != null && pending.stream.id.equals(stream)) {
            key = RowKey.of(tuple, keyIndexes);
            pending.changed(key, xid, commitLsn);
        }
        InFlight f = inFlight;
        if (f != null && f.stream.replicated && !f.overflowed() && f.stream.id.equals(stream)) {
            if (f.changes.size() >= maxLoggedChanges) {
                f.changes = null;
                return;
            }
            f.changes.add(new LoggedChange(key != null ? key : RowKey.of(tuple, keyIndexes), xid, commitLsn));
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
        if (pending == null || pending.highFence == PendingChunk.NO_FENCE || Lsn.compare(position, pending.highFence) < 0) {
            return activated;
        }
        PendingChunk p = pending;
        pending = null;
        Failpoints.hit(Failpoints.BETWEEN_FENCE_AND_CHUNK_ROWS);
        chunkObserver.accept(p.stream.id, p.chunk);
        emitRows(p.stream, p.chunk, p.lowFence, p.readAtMillis);
        StreamProgress known = checkpoints.progressOf(p.stream.id);
        StreamProgress before = known != null ? known : StreamProgress.PENDING;
        StreamProgress next = p.chunk.done() ? before.completed()
                : before.backfilledTo(p.chunk.resumeAfter(), p.stream.rowsDone, p.stream.scanKey);
        checkpoints.progress(p.stream.id, next);
        if (p.chunk.done()) {
            finish(p.stream); // otherwise the stream stays first in the queue for its next chunk
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
        queue.removeFirst();
        readers.remove(stream.id);
        logProgress(stream, true);
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
