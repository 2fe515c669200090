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
 * <p>Small tables share a read: the chunks of up to {@link #MAX_STREAMS_PER_READ} consecutive streams whose rows
 * together fit one chunk's bounds are read in one snapshot S after one low fence L, and wait for one high fence
 * H written once the writers of all their tables have ended. Each chunk's merge is the one above, with S, L and
 * H shared: nothing in it needs one table per snapshot. Its rows are as of S, taken after L; every transaction
 * S saw writing any of the tables ends before H is written, so its changes arrive before H and remove the rows
 * they touched; and each chunk is emitted only once replication has passed H. A shared H is only later, which
 * waits for more but breaks none of this. A read stops at the first chunk that does not finish its table.
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
    /** Most streams read in one snapshot (and fenced together); their rows together stay within one chunk's bounds. */
    static final int MAX_STREAMS_PER_READ = 200;

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
    /**
     * The chunks waiting for one high fence, in queue order, by stream: several small tables read in one
     * snapshot share it. Null when none waits.
     */
    private Map<StreamId, PendingChunk> pending;
    private long pendingFence = PendingChunk.NO_FENCE;
    private TableWriters pendingWriters;
    private InFlight inFlight;
    private long lastProgressLog = System.nanoTime();
    private long rowsEmitted;
    private int streamsFinished;
    private final int streamsToBackfill;

    /** Chunks being read (of one stream, or of several small ones in one snapshot), and the changes to them delivered meanwhile. */
    private static final class InFlight {
        final List<BackfillStream> streams;
        final java.util.Set<StreamId> ids = new java.util.HashSet<>();
        final List<JsonNode> resumes;
        final boolean replicated;
        final Future<List<ChunkReadAhead.Read>> read;
        final boolean replicationPaused;
        /** What replication had delivered when the read was started. */
        final RecentTransactions.Mark delivered;
        List<LoggedChange> changes = new ArrayList<>();

        InFlight(List<BackfillStream> streams, List<JsonNode> resumes, Future<List<ChunkReadAhead.Read>> read,
                boolean replicationPaused, RecentTransactions.Mark delivered) {
            this.streams = streams;
            this.resumes = resumes;
            this.replicated = streams.get(0).replicated;
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
        this.streamsToBackfill = queue.size();
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
     * Moves the backfill on without waiting for a read: takes a finished read (emitting the rows of streams
     * that are not replicated, or making replicated chunks the waiting ones), starts the next read, and
     * writes the waiting chunks' high fence once it may.
     */
    void readNextChunk() {
        while (true) {
            if (inFlight == null) {
                startNextRead();
            }
            if (inFlight == null || pending != null
                    || (!inFlight.replicationPaused && !inFlight.read.isDone())) {
                break; // nothing to read, chunks still to emit first, or a read still under way
            }
            InFlight f = inFlight;
            inFlight = null;
            List<ChunkReadAhead.Read> reads = ChunkReadAhead.take(f.read);
            if (!f.replicated) {
                for (int i = 0; i < reads.size(); i++) {
                    BackfillStream stream = f.streams.get(i);
                    stream.fullRefreshResume = reads.get(i).chunk().resumeAfter();
                    if (reads.get(i).chunk().done()) {
                        queue.remove(stream);
                        readers.remove(stream.id);
                    }
                }
                startNextRead(); // read the next chunks while these are written
                for (int i = 0; i < reads.size(); i++) {
                    ChunkReadAhead.Read read = reads.get(i);
                    emitRows(f.streams.get(i), read.chunk(), read.lowFence(), read.readAtMillis());
                    if (read.chunk().done()) {
                        finished(f.streams.get(i));
                    }
                }
                continue;
            }
            if (f.overflowed()) {
                // Raced more changes than the log holds: read it again, this time with replication waiting.
                out.log(LogLevel.DEBUG, "A read of " + f.streams.get(0).id + (f.streams.size() > 1 ? " and "
                        + (f.streams.size() - 1) + " more streams" : "") + " raced more than " + maxLoggedChanges
                        + " changes while it was read; reading it again with replication paused");
                inFlight = submit(f.streams, f.resumes, true);
                continue;
            }
            if (recent.racedBefore(f.delivered, reads.get(0).chunk().snapshot())) {
                continue; // raced a commit that was already delivered: read it again
            }
            pending = new java.util.LinkedHashMap<>();
            pendingWriters = reads.get(0).writers();
            pendingFence = PendingChunk.NO_FENCE;
            for (int i = 0; i < reads.size(); i++) {
                ChunkReadAhead.Read read = reads.get(i);
                BackfillStream stream = f.streams.get(i);
                pending.put(stream.id, new PendingChunk(stream, read.chunk(), read.lowFence(), read.readAtMillis(),
                        read.writers()));
            }
            for (LoggedChange c : f.changes) {
                PendingChunk p = pending.get(c.stream());
                if (p != null) {
                    p.changed(c.key(), c.xid(), c.commitLsn());
                }
            }
            startNextRead(); // the next chunks are read while these wait for their fence and are emitted
        }
        fenceIfReady();
    }

    /**
     * Starts reading the chunks that follow the waiting ones: the stream whose chunk waits and is not its
     * last, or else the next streams in the queue — as many of them as one read may take, all replicated
     * or all not.
     */
    private void startNextRead() {
        if (inFlight != null) {
            return;
        }
        List<BackfillStream> streams = new ArrayList<>();
        List<JsonNode> resumes = new ArrayList<>();
        for (BackfillStream s : queue) {
            PendingChunk waiting = pending == null ? null : pending.get(s.id);
            if (waiting != null && waiting.chunk.done()) {
                continue; // finished once its chunk is emitted
            }
            if (!streams.isEmpty() && (s.replicated != streams.get(0).replicated || streams.size() >= MAX_STREAMS_PER_READ)) {
                break;
            }
            streams.add(s);
            resumes.add(waiting != null ? waiting.chunk.resumeAfter() : resumeOf(s));
            if (waiting != null) {
                break; // a table larger than a chunk is read on its own
            }
        }
        if (!streams.isEmpty()) {
            inFlight = submit(streams, resumes, false);
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

    private InFlight submit(List<BackfillStream> streams, List<JsonNode> resumes, boolean replicationPaused) {
        List<ChunkReader> chunkReaders = new ArrayList<>();
        for (BackfillStream s : streams) {
            chunkReaders.add(readers.computeIfAbsent(s.id, id -> new ChunkReader(s.plan)));
        }
        RecentTransactions.Mark delivered = recent.mark(); // before the read can take its snapshot
        return new InFlight(streams, resumes, readAhead.submitTogether(streams, chunkReaders, resumes, chunkRows, chunkBytes),
                replicationPaused, delivered);
    }

    /**
     * Writes the high fence of the waiting chunks once every transaction that was already writing one of their
     * tables when the chunks' snapshot was taken has ended: until then, such a transaction may still commit a
     * change to one of the chunks' rows made before the low fence, which would arrive after the chunk with
     * an older {@code _ab_cdc_lsn}. Their commits, arriving meanwhile, remove the rows they touched.
     */
    private void fenceIfReady() {
        if (pending != null && pendingFence == PendingChunk.NO_FENCE
                && pendingWriters.finished(connection, pending.keySet().iterator().next(), out)) {
            pendingFence = fence();
        }
    }

    /** A replicated change to {@code key} of {@code stream} by transaction {@code xid} committing at {@code commitLsn}. */
    void changed(StreamId stream, TupleData tuple, int[] keyIndexes, int xid, long commitLsn) {
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
        if (f != null && f.replicated && !f.overflowed() && f.ids.contains(stream)) {
            if (f.changes.size() >= maxLoggedChanges) {
                f.changes = null;
                return;
            }
            f.changes.add(new LoggedChange(stream, key != null ? key : RowKey.of(tuple, keyIndexes), xid, commitLsn));
        }
    }

    /**
     * Replication has reached {@code position} at a transaction boundary: emits the waiting chunks if the
     * position has passed their high fence. Returns whether the state changed.
     */
    boolean reached(long position) {
        fenceIfReady();
        if (pending == null || pendingFence == PendingChunk.NO_FENCE || Lsn.compare(position, pendingFence) < 0) {
            return false;
        }
        Map<StreamId, PendingChunk> emitted = pending;
        pending = null;
        pendingWriters = null;
        pendingFence = PendingChunk.NO_FENCE;
        for (PendingChunk p : emitted.values()) {
            emitRows(p.stream, p.chunk, p.lowFence, p.readAtMillis);
            StreamProgress next = p.chunk.done() ? StreamProgress.ACTIVE
                    : new StreamProgress(StreamProgress.Phase.BACKFILLING, p.chunk.resumeAfter(), p.stream.rowsDone);
            checkpoints.progress(p.stream.id, next);
            if (p.chunk.done()) {
                queue.remove(p.stream); // otherwise the stream stays first in the queue for its next chunk
                readers.remove(p.stream.id);
                finished(p.stream);
            }
            // Between two chunks is a transaction boundary too: while states are cheap, each chunk gets its own,
            // as when every table had its own fence.
            checkpoints.backfillProgressed();
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

    /**
     * A stream's backfill is complete. Said at INFO for a stream that took more than one read; thousands of
     * small tables are summed up instead, at most every 10 s.
     */
    private void finished(BackfillStream stream) {
        streamsFinished++;
        if (stream.rowsDoneThisRun() >= chunkRows) {
            logProgress(stream, true);
            return;
        }
        long now = System.nanoTime();
        if (out.isEnabled(LogLevel.DEBUG)) {
            out.log(LogLevel.DEBUG, "Backfill of " + stream.id + " complete: " + stream.rowsDone + " rows");
        }
        if (now - lastProgressLog >= PROGRESS_LOG_NANOS || streamsFinished == streamsToBackfill) {
            lastProgressLog = now;
            out.log(LogLevel.INFO, "Backfill: " + streamsFinished + " of " + streamsToBackfill + " streams complete, "
                    + rowsEmitted + " rows emitted");
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
            return WalFence.emit(connection);
        } catch (SQLException e) {
            throw io.sourcepostgres.airbyte.ConnectorException.transientError("Writing a backfill fence failed: "
                    + e.getMessage(), e);
        }
    }
}
