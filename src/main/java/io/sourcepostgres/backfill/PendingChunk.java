package io.sourcepostgres.backfill;


/**
 * A chunk read but not yet emitted, with its fences: {@code lowFence} taken before the chunk's snapshot,
 * {@code highFence} written after it (once the table's earlier writers have ended, see {@link TableWriters}). Its rows are emitted once replication has passed the high fence;
 * until then, a change to one of its rows by a transaction the snapshot may not have seen removes that
 * row (the change event, emitted in order, supersedes it).
 */
public final class PendingChunk {
    final BackfillStream stream;
    final Chunk chunk;
    static final long NO_FENCE = -1L;

    final long lowFence;
    /** {@link #NO_FENCE} until the transactions already writing the table at the snapshot have ended. */
    long highFence = NO_FENCE;
    final TableWriters writers;
    final long readAtMillis;

    PendingChunk(BackfillStream stream, Chunk chunk, long lowFence, long readAtMillis, TableWriters writers) {
        this.stream = stream;
        this.chunk = chunk;
        this.lowFence = lowFence;
        this.writers = writers;
        this.readAtMillis = readAtMillis;
    }

    /**
     * A change by transaction {@code xid} committing at {@code commitLsn} touched {@code key}: the chunk's
     * row is stale (or at best a duplicate) when the snapshot did not include the transaction, or the
     * transaction committed after the low fence.
     */
    void changed(RowKey key, int xid, long commitLsn) {
        if (!chunk.snapshot().includes32(Integer.toUnsignedLong(xid))
                || io.sourcepostgres.pgoutput.Lsn.compare(commitLsn, lowFence) >= 0) {
            chunk.remove(key);
        }
    }
}
