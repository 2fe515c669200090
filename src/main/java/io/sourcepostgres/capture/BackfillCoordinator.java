package io.sourcepostgres.capture;

import io.sourcepostgres.airbyte.AirbyteOutput;
import io.sourcepostgres.airbyte.LogLevel;
import io.sourcepostgres.airbyte.StreamId;
import io.sourcepostgres.backfill.Chunk;
import io.sourcepostgres.backfill.ChunkReader;
import io.sourcepostgres.backfill.RowKey;
import io.sourcepostgres.pgoutput.Lsn;
import io.sourcepostgres.pgoutput.TupleData;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;

/**
 * Runs the backfills alongside replication, one chunk at a time, and merges each chunk with the changes
 * that raced it (a watermark scheme after DBLog, with WAL positions as fences):
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
 * A chunk whose snapshot still counted as running a transaction that replication had already delivered
 * (its commit record came before L but it was not yet visible) is read again. And H is only written once
 * the transactions that were already writing the table at S have ended ({@link TableWriters}): one of them
 * may have changed a chunk row before L, and its change must remove that row rather than arrive after the
 * chunk with an older {@code _ab_cdc_lsn}.
 */
final class BackfillCoordinator {
    private static final long PROGRESS_LOG_NANOS = 10_000_000_000L;

    private final Connection connection;
    private final Deque<BackfillStream> queue;
    private final Map<StreamId, ChunkReader> readers = new HashMap<>();
    private final Checkpoints checkpoints;
    private final ChangeRecordWriter records;
    private final RecentTransactions recent;
    private final AirbyteOutput out;
    private final int chunkRows;
    private final long chunkBytes;
    private PendingChunk pending;
    private long lastProgressLog = System.nanoTime();
    private long rowsEmitted;

    BackfillCoordinator(Connection connection, Deque<BackfillStream> queue, Checkpoints checkpoints,
            ChangeRecordWriter records, RecentTransactions recent, AirbyteOutput out, int chunkRows, long chunkBytes) {
        this.connection = connection;
        this.queue = new ArrayDeque<>(queue);
        this.checkpoints = checkpoints;
        this.records = records;
        this.recent = recent;
        this.out = out;
        this.chunkRows = chunkRows;
        this.chunkBytes = chunkBytes;
    }

    boolean done() {
        return pending == null && queue.isEmpty();
    }

    long rowsEmitted() {
        return rowsEmitted;
    }

    /** Whether a chunk waits for replication to pass its high fence. */
    boolean awaitingFence() {
        return pending != null;
    }

    /** Reads the next chunk when none is waiting. Streams that are not replicated are emitted at once. */
    void readNextChunk() {
        while (pending == null && !queue.isEmpty()) {
            BackfillStream stream = queue.peekFirst();
            ChunkReader reader = readers.computeIfAbsent(stream.id, id -> new ChunkReader(stream.plan));
            StreamProgress progress = checkpoints.state().streams().get(stream.id);
            var resumeAfter = progress == null ? null : progress.resumeAfter();
            if (!stream.replicated) {
                long at = insertPosition();
                Chunk chunk = reader.read(connection, stream.fullRefreshResume, chunkRows, chunkBytes);
                emitRows(stream, chunk, at, System.currentTimeMillis());
                stream.fullRefreshResume = chunk.resumeAfter();
                if (chunk.done()) {
                    finish(stream);
                }
                continue;
            }
            long low = insertPosition();
            Chunk chunk = reader.read(connection, resumeAfter, chunkRows, chunkBytes);
            if (recent.anyDelivered(chunk.snapshot().inProgress())) {
                continue; // raced a commit that was already delivered: read it again
            }
            pending = new PendingChunk(stream, chunk, low, System.currentTimeMillis(),
                    TableWriters.runningSince(connection, stream.plan.table(), chunk.snapshot()));
        }
        fenceIfReady();
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
        if (pending != null && pending.stream.id.equals(stream) && keyIndexes.length > 0) {
            pending.changed(RowKey.of(tuple, keyIndexes), xid, commitLsn);
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
        checkpoints.update(checkpoints.state().withStream(p.stream.id, next));
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

    private long insertPosition() {
        try (Statement st = connection.createStatement();
                ResultSet rs = st.executeQuery("SELECT pg_catalog.pg_current_wal_insert_lsn()::text")) {
            rs.next();
            return Lsn.parse(rs.getString(1));
        } catch (SQLException e) {
            throw io.sourcepostgres.airbyte.ConnectorException.transientError("Reading the WAL position failed: "
                    + e.getMessage(), e);
        }
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
