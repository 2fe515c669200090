package io.sourcepostgres.capture;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcepostgres.airbyte.AirbyteOutput;
import io.sourcepostgres.airbyte.LogLevel;
import io.sourcepostgres.airbyte.StreamId;
import io.sourcepostgres.backfill.Chunk;
import io.sourcepostgres.backfill.ChunkReader;
import io.sourcepostgres.backfill.RowKey;
import io.sourcepostgres.pgoutput.Lsn;
import io.sourcepostgres.pgoutput.TupleData;
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
 */
final class BackfillCoordinator {
    private static final long PROGRESS_LOG_NANOS = 10_000_000_000L;
    /**
     * Fewest changes to a table that a read in flight logs before it gives up and is read again; above it,
     * a chunk's worth of rows (the log holds keys only, so it stays smaller than the chunk it guards).
     */
    private static final int MIN_LOGGED_CHANGES = 64;

    private final Connection connection;
    private final Deque<BackfillStream> queue;
    private final Map<StreamId, ChunkReader> readers = new HashMap<>();
    private final ChunkReadAhead readAhead;
    private final Checkpoints checkpoints;
    private final ChangeRecordWriter records;
    private final RecentTransactions recent;
    private final AirbyteOutput out;
    private final int chunkRows;
    private final long chunkBytes;
    private final int maxLoggedChanges;
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
    BackfillCoordinator(Connection connection, ChunkReadAhead readAhead, Deque<BackfillStream> queue,
            Checkpoints checkpoints, ChangeRecordWriter records, RecentTransactions recent, AirbyteOutput out,
            int chunkRows, long chunkBytes) {
        this.connection = connection;
        this.readAhead = readAhead;
        this.queue = new ArrayDeque<>(queue);
        this.checkpoints = checkpoints;
        this.records = records;
        this.recent = recent;
        this.out = out;
        this.chunkRows = chunkRows;
        this.chunkBytes = chunkBytes;
        this.maxLoggedChanges = Math.max(MIN_LOGGED_CHANGES, chunkRows);
    }

    boolean done() {
        return pending == null && inFlight == null && queue.isEmpty();
    }

    long rowsEmitted() {
        return rowsEmitted;
    }

    /** Whether a chunk waits for replication to pass its high fence. */
    boolean awaitingFence() {
        return pending != null;
    }

    /**
     * Moves the backfill on without waiting for a read: takes a finished read (emitting the rows of a stream
     * that is not replicated, or making a replicated chunk the waiting one), starts the next read, and
     * writes the waiting chunk's high fence once it may.
     */
    void readNextChunk() {
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
            BackfillStream stream = f.stream;
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
        ChunkReader reader = readers.computeIfAbsent(stream.id, id -> new ChunkReader(stream.plan));
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
                && pending.writers.finished(connection, pending.stream.id, out)) {
            pending.highFence = fence();
        }
    }

    /** A replicated change to {@code key} of {@code stream} by transaction {@code xid} committing at {@code commitLsn}. */
    void changed(StreamId stream, TupleData tuple, int[] keyIndexes, int xid, long commitLsn) {
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
    boolean reached(long position) {
        fenceIfReady();
        if (pending == null || pending.highFence == PendingChunk.NO_FENCE || Lsn.compare(position, pending.highFence) < 0) {
            return false;
        }
        PendingChunk p = pending;
        pending = null;
        emitRows(p.stream, p.chunk, p.lowFence, p.readAtMillis);
        StreamProgress next = p.chunk.done() ? StreamProgress.ACTIVE
                : new StreamProgress(StreamProgress.Phase.BACKFILLING, p.chunk.resumeAfter(), p.stream.rowsDone);
        checkpoints.progress(p.stream.id, next);
        if (p.chunk.done()) {
            finish(p.stream); // otherwise the stream stays first in the queue for its next chunk
        }
        return true;
    }

    private void emitRows(BackfillStream stream, Chunk chunk, long lsn, long readAtMillis) {
        String readAt = java.time.Instant.ofEpochMilli(readAtMillis).toString();
        for (TupleData row : chunk.rows()) {
            records.write(stream.shape, row, false, lsn, readAt, false, System.currentTimeMillis());
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
            return WalFence.emit(connection);
        } catch (SQLException e) {
            throw io.sourcepostgres.airbyte.ConnectorException.transientError("Writing a backfill fence failed: "
                    + e.getMessage(), e);
        }
    }
}
