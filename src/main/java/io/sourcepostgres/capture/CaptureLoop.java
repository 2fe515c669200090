package io.sourcepostgres.capture;

import io.sourcepostgres.backfill.BackfillCoordinator;
import io.sourcepostgres.backfill.ChunkMerge;
import io.sourcepostgres.backfill.RecentTransactions;
import io.sourcepostgres.replication.CommittedChanges;
import io.sourcepostgres.replication.RelationCache;
import io.sourcepostgres.state.CheckpointPolicy;
import io.sourcepostgres.state.Checkpoints;
import io.sourcepostgres.streams.CapturedTable;
import io.sourcepostgres.streams.ChangeRecordWriter;
import io.sourcepostgres.airbyte.AirbyteOutput;
import io.sourcepostgres.airbyte.ConnectorException;
import io.sourcepostgres.pgoutput.Lsn;
import io.sourcepostgres.pgoutput.PgOutputMessage;
import io.sourcepostgres.pgoutput.TupleData;
import io.sourcepostgres.postgres.SqlFailures;
import java.sql.SQLException;
import java.util.function.BooleanSupplier;

/**
 * The capture loop of one {@code read}: backfill and replication merged on one thread. Each turn is one of
 * two phases:
 * <ul>
 *   <li><b>streaming</b> — {@link CommittedChanges} hands over the next message; changes become RECORDs in commit
 *       order (a chunk row a change races is dropped from its chunk, see {@link BackfillCoordinator}); at each commit the
 *       position advances, a fence the stream passed releases its chunk's rows, and a STATE goes out when
 *       {@link CheckpointPolicy} says one is due;</li>
 *   <li><b>idle</b> — the server has sent everything: between transactions its keepalive position is a safe
 *       resume point, a due STATE goes out, and the backfill reads its next chunk (read ahead on a second
 *       connection) and writes the chunk's fence, which the stream will deliver in a later turn.</li>
 * </ul>
 * The backfill only acts between transactions. Without tail, the loop ends once every backfill is done, the
 * position has reached {@code target} (the server's WAL position at the start of the run) and no image waits
 * for a later position; then the final STATE. No timer decides this.
 */
public final class CaptureLoop {
    /** Longest pause between polls of an idle stream: bounds the commit-to-stdout latency it adds. */
    private static final long IDLE_SLEEP_MAX_NANOS = 1_000_000L;
    private static final long SOLICIT_INTERVAL_NANOS = 1_000_000_000L;
    /**
     * Longest a committed transaction waits in the output buffer while the stream stays busy. The idle
     * flush alone is not enough: at a few thousand commits a second the driver's poll, which waits up to a
     * millisecond for data, always finds the next transaction, and the buffer would only go out when full.
     */
    private static final long BUSY_FLUSH_NANOS = 1_000_000L;

    private final CommittedChanges changes;
    private final RelationCache relations;
    private final ChangeRecordWriter records;
    private final Checkpoints checkpoints;
    private final AirbyteOutput out;
    private final TruncateHandler truncates;
    private final UnchangedToastValues keylessToast;
    private final UnsentToastValues toast;
    private final UnsentToastValues.Sink exactImages = this::emitResolved;
    private final java.util.List<String> unrecoverable = new java.util.ArrayList<>();

    private final ChunkMerge backfill;
    private final RecentTransactions recent;
    private boolean inTransaction;
    private int xid;
    private long commitLsn;
    private String commitTime;
    private long position;
    private long changesEmitted;
    private static final long NOT_DRAINING = -1;
    /** Once caught up: the position the images then waiting wait for (see {@link #finished}). */
    private long drainTarget = NOT_DRAINING;
    private final CommittedChanges.Receiver receiver = new CommittedChanges.Receiver() {
        @Override
        public void message(PgOutputMessage message, long lsn) {
            apply(message, lsn);
        }

        @Override
        public void writtenBy(int subXid) {
            toast.streamedXid(subXid); // its subtransactions' xids mark rows this transaction wrote
        }
    };

    public CaptureLoop(CommittedChanges changes, ChangeRecordWriter records,
            Checkpoints checkpoints, TruncateHandler truncates, UnchangedToastValues keylessToast,
            UnsentToastValues toast, ChunkMerge backfill, RecentTransactions recent, AirbyteOutput out) {
        this.backfill = backfill;
        this.recent = recent;
        this.keylessToast = keylessToast;
        this.toast = toast;
        // Each state carries the images still waiting, so that a run resuming from it emits them (UnsentToastValues).
        checkpoints.carry(toast::pending);
        backfill.observeChunks(toast::beforeChunkRows);
        this.changes = changes;
        this.relations = changes.relations();
        this.records = records;
        this.checkpoints = checkpoints;
        this.truncates = truncates;
        this.out = out;
        this.position = checkpoints.position();
    }

    /**
     * Before streaming: takes back the row images the state this run resumes from left waiting (see
     * {@link UnsentToastValues#restore}).
     */
    public void restoreUnsentImages(com.fasterxml.jackson.databind.JsonNode images,
            java.util.function.Function<io.sourcepostgres.airbyte.StreamId, CapturedTable> describe) {
        toast.restore(images, describe, exactImages);
    }

    /** The commit position of the transaction being received (its BEGIN's final LSN); the last one's between transactions. */
    public long transactionCommit() {
        return commitLsn;
    }

    public long changesEmitted() {
        return changesEmitted;
    }

    /** What the run did with updates whose unchanged TOASTed values were not sent; null when there were none. */
    public String unsentToastSummary() {
        return toast.summary();
    }

    /**
     * Streams until the position reaches {@code target} (unsigned; pass -1 to stream until {@code stop}
     * says so), then emits a final state.
     */
    public void run(long target, BooleanSupplier stop) {
        run(target, stop, () -> { });
    }

    /**
     * As {@link #run(long, BooleanSupplier)}, calling {@code whileIdle} on every turn that finds nothing
     * waiting — inside a transaction too, unlike {@code stop} — so that a check for a silent connection
     * (which may throw) runs wherever the stream stalls.
     */
    public void run(long target, BooleanSupplier stop, Runnable whileIdle) {
        long idleSleep = 50_000L;
        long lastSolicit = 0;
        try {
            while (true) {
                if (changes.poll(receiver)) {
                    // Streaming: a message was applied. Between transactions, the next chunk may be read.
                    idleSleep = 50_000L;
                    if (betweenTransactions()) {
                        backfill.readNextChunk();
                        if (finished(target)) {
                            break;
                        }
                    }
                    continue;
                }
                // Idle: the server has sent all it has. Between transactions its keepalive position is a safe
                // place to resume from, a due state goes out, and the backfill goes on.
                out.flush();
                whileIdle.run();
                if (betweenTransactions()) {
                    advanceTo(changes.keepalivePosition());
                    if (finished(target) || stop.getAsBoolean()) {
                        break;
                    }
                    checkpoints.emitIfDue();
                    backfill.readNextChunk();
                }
                long now = System.nanoTime();
                if ((target != -1 || backfill.awaitingFence() || toast.waitsForPosition())
                        && now - lastSolicit > SOLICIT_INTERVAL_NANOS) {
                    // Waiting for a position (the run's end, a fence, a TOAST read's position): ask for a keepalive.
                    changes.solicitKeepalive();
                    lastSolicit = now;
                }
                java.util.concurrent.locks.LockSupport.parkNanos(idleSleep);
                idleSleep = Math.min(IDLE_SLEEP_MAX_NANOS, idleSleep * 2);
            }
        } catch (SQLException e) {
            throw replicationFailed(e);
        }
        checkpoints.emitFinal();
    }

    /** Outside any transaction, including a protocol-2 segment of one not yet committed. */
    private boolean betweenTransactions() {
        return !inTransaction && !changes.insideSegment();
    }

    /**
     * The run is over: every backfill done, the target position reached, and then the positions passed that the
     * images waiting at that moment wait for. Images set aside after that (under constant writes there are
     * always some) go out with the final state, and the next run emits them: the run ends in bounded time.
     */
    private boolean finished(long target) {
        if (!backfill.done() || !reached(target)) {
            return false;
        }
        if (drainTarget == NOT_DRAINING) {
            toast.readDeferred(position, exactImages);
            drainTarget = toast.lastPositionWaitedFor();
        }
        return Lsn.compare(position, drainTarget) >= 0;
    }

    private boolean reached(long target) {
        return target != -1 && Lsn.compare(position, target) >= 0;
    }

    private void apply(PgOutputMessage msg, long lsn) {
        if (msg instanceof PgOutputMessage.Insert i) {
            CapturedTable t = captured(i.relationId());
            if (t != null) {
                backfill.changed(t.id(), i.newTuple(), t.keyIndexes(), xid, commitLsn);
                toast.changed(t, i.newTuple());
                emit(t, i.newTuple(), false, lsn, false);
            }
        } else if (msg instanceof PgOutputMessage.Update u) {
            CapturedTable t = captured(u.relationId());
            if (t != null) {
                // Values not sent (unchanged out of line) come from the old tuple where it has them: all of
                // them under REPLICA IDENTITY FULL, the key columns when those are stored out of line.
                // A key column stored out of line comes as 'u' with the old key attached (checked there).
                TupleData row = UnsentToastValues.withoutUnselected(t, UnsentToastValues.completeFromOld(u.oldTuple(),
                        UnchangedKeyValues.fill(t, u.oldTuple(), u.newTuple())));
                backfill.keylessRowChanged(t.id(), xid, commitLsn);
                backfill.changed(t.id(), row, t.keyIndexes(), xid, commitLsn);
                if (t.keyChanged(u.oldTuple(), row)) {
                    backfill.changed(t.id(), u.oldTuple(), t.keyIndexes(), xid, commitLsn);
                    toast.changed(t, u.oldTuple());
                    // The key changed: downstream the row under the old key must disappear.
                    emit(t, u.oldTuple(), u.oldKind() == 'K', lsn, true);
                }
                toast.changed(t, row);
                if (!UnsentToastValues.hasUnsent(row)) {
                    emit(t, row, false, lsn, false);
                } else if (t.keyIndexes().length > 0) {
                    toast.hold(t, row, lsn, commitTime);
                } else {
                    unrecoverable.clear();
                    emit(t, keylessToast.resolve(t, u.oldTuple(), row, unrecoverable), false, lsn, false, unrecoverable);
                }
            }
        } else if (msg instanceof PgOutputMessage.Delete d) {
            CapturedTable t = captured(d.relationId());
            if (t != null) {
                backfill.keylessRowChanged(t.id(), xid, commitLsn);
                backfill.changed(t.id(), d.oldTuple(), t.keyIndexes(), xid, commitLsn);
                toast.changed(t, d.oldTuple());
                emit(t, d.oldTuple(), d.oldKind() == 'K', lsn, true);
            }
        } else if (msg instanceof PgOutputMessage.Begin b) {
            inTransaction = true;
            xid = b.xid();
            commitLsn = b.finalLsn();
            commitTime = io.sourcepostgres.pgoutput.PgTimestamp.toRfc3339Utc(b.commitTimeMicros());
        } else if (msg instanceof PgOutputMessage.Commit c) {
            toast.committed(xid, c.endLsn(), exactImages);
            inTransaction = false;
            recent.committed(xid);
            commit(c.endLsn());
        } else if (msg instanceof PgOutputMessage.Truncate tr) {
            toast.truncated(java.util.Arrays.stream(tr.relationIds()).boxed().toList());
            truncates.onTruncate(tr, relations, lsn, commitTime);
        }
        // Origin and logical decoding messages (our fences among them: their transaction's commit
        // moves the position past them) carry nothing to emit.
    }

    /** The captured table of a change, or null when it is not captured or its keyless backfill holds it already. */
    private CapturedTable captured(int relationId) {
        CapturedTable t = relations.get(relationId);
        return t == null || backfill.suppresses(t.id(), xid) ? null : t;
    }

    private void emit(CapturedTable t, io.sourcepostgres.pgoutput.TupleData tuple, boolean keyOnly, long lsn, boolean delete) {
        emit(t, tuple, keyOnly, lsn, delete, java.util.List.of());
    }

    private void emit(CapturedTable t, io.sourcepostgres.pgoutput.TupleData tuple, boolean keyOnly, long lsn, boolean delete,
            java.util.List<String> unrecoverable) {
        records.write(t, tuple, keyOnly, lsn, commitTime, delete, System.currentTimeMillis(), unrecoverable);
        checkpoints.countRecord();
        changesEmitted++;
    }

    private void emitResolved(CapturedTable t, TupleData row, long lsn, String time) {
        records.write(t, row, false, lsn, time, false, System.currentTimeMillis(), java.util.List.of());
        checkpoints.countRecord();
        changesEmitted++;
    }

    private void commit(long endLsn) {
        advanceTo(endLsn);
        checkpoints.committed();
        out.flushIfOlderThan(BUSY_FLUSH_NANOS);
    }

    /** Moves the resume position forward (never back); only called between transactions. */
    private void advanceTo(long lsn) {
        if (Lsn.compare(lsn, position) > 0) {
            position = lsn;
            toast.passed(position, exactImages);
            checkpoints.advance(position);
            if (backfill.reached(position)) {
                checkpoints.backfillProgressed(); // the chunk's rows are out: its progress may make a state due
            }
        }
    }

    private static ConnectorException replicationFailed(SQLException e) {
        String message = e.getMessage() == null ? "" : e.getMessage();
        if (message.contains("publication") && message.contains("does not exist")) {
            return SqlFailures.explained("The server cannot decode the slot's changes: " + message.split("\n")[0]
                    + ". pgoutput reads the publication as of each change, so a slot created before its publication "
                    + "fails on the changes in between, and a dropped publication fails from then on. Create the "
                    + "publication, then drop and recreate the slot (SELECT pg_drop_replication_slot('<slot>');) and "
                    + "run without state for a new backfill.", e);
        }
        return SqlFailures.failure("Reading the replication stream", e);
    }
}
