package io.sourcepostgres.backfill;

import io.sourcepostgres.airbyte.StreamId;
import io.sourcepostgres.pgoutput.TupleData;

/**
 * The chunk merge as the capture loop drives it: backfill chunks read alongside replication and merged with the
 * changes that raced them (see {@link BackfillCoordinator} for the rules). The loop hands over every captured
 * change as replication delivers it and tells the merge where replication stands; the merge decides when a
 * chunk is read, fenced and emitted.
 *
 * <p>Two kinds of call, by where the loop is:
 * <ul>
 *   <li><b>inside a transaction</b> (between its BEGIN and COMMIT, for each change in commit order):
 *       {@link #suppresses}, {@link #changed}, {@link #keylessRowChanged}. They emit nothing: they only drop the
 *       rows a change supersedes from the chunk waiting for its fence, or note the change against a read still
 *       in flight.</li>
 *   <li><b>only between transactions</b> (after a COMMIT, or on an idle turn outside any transaction):
 *       {@link #readNextChunk} and {@link #reached}. They may emit RECORDs (a chunk's rows) and move a stream's
 *       progress in the checkpoints, which is why they never run inside a transaction: a transaction's
 *       records are never interleaved with a chunk's, and a state is only taken at a boundary.</li>
 * </ul>
 * {@link #done} and {@link #awaitingFence} only answer, and may be asked at any time.
 */
public interface ChunkMerge {

    /**
     * Moves the backfill on without waiting for a read in flight: takes a finished read, starts the next one,
     * and writes the waiting chunk's high fence once the table's earlier writers have ended. Between
     * transactions only. Emits the rows of a chunk that waits for no fence (a full-refresh stream's, a keyless
     * stream's, the latter followed by a STATE); a keyed replicated chunk's rows wait for {@link #reached}.
     */
    void readNextChunk();

    /** Whether every backfill of the run is over: no chunk waiting, none being read, none queued, none activating. */
    boolean done();

    /** Whether a chunk (or a finished keyless stream) waits for replication to pass a fence it wrote. */
    boolean awaitingFence();

    /**
     * A change of {@code stream} to the row whose scan key sits at {@code keyIndexes} of {@code tuple}, by
     * transaction {@code xid} committing at {@code commitLsn}. Inside a transaction; called for the new row, and
     * for the old row too when the key changed. Emits nothing: the chunk waiting for its fence loses that row
     * when its snapshot may not hold the change, and a read in flight notes the key to check once it is in.
     */
    void changed(StreamId stream, TupleData tuple, int[] keyIndexes, int xid, long commitLsn);

    /**
     * An UPDATE or DELETE of a keyless {@code stream} by transaction {@code xid}. Inside a transaction; emits
     * nothing: a keyless chunk being read that it may have raced is read again.
     */
    void keylessRowChanged(StreamId stream, int xid, long commitLsn);

    /**
     * Whether a change by transaction {@code xid} to {@code stream} must be left out because a keyless
     * backfill already holds its effect. Inside a transaction, before the change is handed over; emits nothing.
     */
    boolean suppresses(StreamId stream, int xid);

    /**
     * Replication has reached {@code position}, between transactions. Emits the waiting chunk's rows when the
     * position has passed its high fence, then records the stream's progress (after the chunk's last key, or
     * active after its last chunk); activates a finished keyless stream whose fence it passed; writes the waiting
     * chunk's fence if its table's writers have ended since. Returns whether a stream's progress changed, so that
     * a STATE may be due.
     */
    boolean reached(long position);

    /**
     * {@code observer} sees each replicated keyed chunk just before {@link #reached} emits its rows, between
     * transactions (the capture drops the row images it set aside that the chunk supersedes).
     */
    void observeChunks(java.util.function.BiConsumer<StreamId, Chunk> observer);
}
