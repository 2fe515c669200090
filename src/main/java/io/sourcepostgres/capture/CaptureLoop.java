package io.sourcepostgres.capture;

import io.sourcepostgres.backfill.BackfillCoordinator;
import io.sourcepostgres.backfill.RecentTransactions;
import io.sourcepostgres.replication.RelationCache;
import io.sourcepostgres.state.CheckpointPolicy;
import io.sourcepostgres.state.Checkpoints;
import io.sourcepostgres.streams.CapturedTable;
import io.sourcepostgres.streams.ChangeRecordWriter;
import io.sourcepostgres.airbyte.AirbyteOutput;
import io.sourcepostgres.airbyte.ConnectorException;
import io.sourcepostgres.failpoints.Failpoints;
import io.sourcepostgres.pgoutput.Lsn;
import io.sourcepostgres.pgoutput.PgOutputDecoder;
import io.sourcepostgres.pgoutput.PgOutputMessage;
import io.sourcepostgres.pgoutput.TupleData;
import io.sourcepostgres.postgres.SqlFailures;
import io.sourcepostgres.replication.ReplicationStream;
import io.sourcepostgres.replication.StreamedTransactions;
import java.nio.ByteBuffer;
import java.sql.SQLException;
import java.util.function.BooleanSupplier;

/**
 * The replication loop: reads pgoutput messages, writes a RECORD per captured row change in commit order,
 * and a STATE when {@link CheckpointPolicy} says one is due (after each commit while states are small). The position also advances through WAL that holds nothing captured, by
 * the server's keepalives, so the next run lets the server free it.
 *
 * <p>Without tail, the loop ends once the position has reached {@code target} — the server's flushed WAL
 * position at the start of the run — at a transaction boundary. No timer decides this.
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

    private final ReplicationStream stream;
    private final PgOutputDecoder decoder = new PgOutputDecoder();
    private final RelationCache relations;
    private final ChangeRecordWriter records;
    private final Checkpoints checkpoints;
    private final StreamedTransactions streamed;
    private final AirbyteOutput out;
    private final TruncateHandler truncates;
    private final UnchangedToastValues keylessToast;
    private final UnsentToastValues toast;
    private final UnsentToastValues.Sink exactImages = this::emitResolved;
    private final java.util.List<String> unrecoverable = new java.util.ArrayList<>();

    private final BackfillCoordinator backfill;
    private final RecentTransactions recent;
    private boolean inTransaction;
    private int xid;
    private long commitLsn;
    private String commitTime;
    private long position;
    private long changesEmitted;

    // protocol 2: the in-progress transaction whose segment is being received, 0 outside a segment
    private int streamingXid;

    public CaptureLoop(ReplicationStream stream, RelationCache relations, ChangeRecordWriter records,
            Checkpoints checkpoints, StreamedTransactions streamed, TruncateHandler truncates, UnchangedToastValues keylessToast,
            UnsentToastValues toast, BackfillCoordinator backfill, RecentTransactions recent, AirbyteOutput out) {
        this.backfill = backfill;
        this.recent = recent;
        this.keylessToast = keylessToast;
        this.toast = toast;
        // A state must not claim an image that waits for the stream to pass a position (see UnsentToastValues).
        checkpoints.holdWhile(toast::holdsState);
        this.stream = stream;
        this.relations = relations;
        this.records = records;
        this.checkpoints = checkpoints;
        this.streamed = streamed;
        this.truncates = truncates;
        this.out = out;
        this.position = checkpoints.position();
    }

    public long changesEmitted() {
        return changesEmitted;
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
                ByteBuffer buf = stream.poll();
                if (buf != null) {
                    idleSleep = 50_000L;
                    handle(buf.array(), buf.arrayOffset() + buf.position(), buf.remaining(), stream.lastReceivedLsn());
                    if (!inTransaction && streamingXid == 0) {
                        backfill.readNextChunk();
                        if (backfill.done() && reached(target) && !toast.holdsState()) {
                            break;
                        }
                    }
                    continue;
                }
                // Nothing waiting: the server has sent all it has. Between transactions, its keepalive
                // position is a safe place to resume from.
                out.flush();
                whileIdle.run();
                if (!inTransaction && streamingXid == 0) {
                    advanceTo(stream.lastReceivedLsn());
                    if ((backfill.done() && reached(target) && !toast.holdsState()) || stop.getAsBoolean()) {
                        break;
                    }
                    checkpoints.emitIfDue();
                    backfill.readNextChunk();
                }
                long now = System.nanoTime();
                if ((target != -1 || backfill.awaitingFence() || toast.holdsState())
                        && now - lastSolicit > SOLICIT_INTERVAL_NANOS) {
                    // A status update makes a caught-up walsender answer with a keepalive carrying its position.
                    stream.sendStatus();
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

    private boolean reached(long target) {
        return target != -1 && Lsn.compare(position, target) >= 0;
    }

    private void handle(byte[] bytes, int offset, int length, long lsn) throws SQLException {
        if (streamingXid != 0 && bytes[offset] != 'E' && bytes[offset] != 'S') {
            int xid = PgOutputDecoder.streamedXid(bytes, offset, length);
            streamed.append(streamingXid, xid, lsn, bytes, offset, length);
            return;
        }
        PgOutputMessage msg = decoder.decode(bytes, offset, length);
        apply(msg, lsn);
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
            toast.committed(xid, exactImages);
            inTransaction = false;
            recent.committed(xid);
            commit(c.endLsn());
        } else if (msg instanceof PgOutputMessage.Relation r) {
            relations.onRelation(r);
        } else if (msg instanceof PgOutputMessage.Type ty) {
            relations.onType(ty);
        } else if (msg instanceof PgOutputMessage.Truncate tr) {
            toast.truncated(java.util.Arrays.stream(tr.relationIds()).boxed().toList());
            truncates.onTruncate(tr, relations, lsn, commitTime);
        } else if (msg instanceof PgOutputMessage.StreamStart s) {
            streamingXid = s.xid();
        } else if (msg instanceof PgOutputMessage.StreamStop) {
            streamingXid = 0;
        } else if (msg instanceof PgOutputMessage.StreamAbort a) {
            streamed.abort(a.xid(), a.subXid());
        } else if (msg instanceof PgOutputMessage.StreamCommit c) {
            replayStreamed(c);
        }
        // Origin and logical decoding messages (our fences among them: their transaction's commit
        // moves the position past them) carry nothing to emit.
    }

    /** The captured table of a change, or null when it is not captured or its keyless backfill holds it already. */
    private CapturedTable captured(int relationId) {
        CapturedTable t = relations.get(relationId);
        return t == null || backfill.suppresses(t.id(), xid) ? null : t;
    }

    private void replayStreamed(PgOutputMessage.StreamCommit c) {
        xid = c.xid();
        commitLsn = c.commitLsn();
        commitTime = io.sourcepostgres.pgoutput.PgTimestamp.toRfc3339Utc(c.commitTimeMicros());
        inTransaction = true;
        try {
            streamed.replay(c.xid(), (changeLsn, bytes, off, len) -> {
                // Its subtransactions' xids mark rows this transaction wrote (see UnsentToastValues).
                toast.streamedXid(PgOutputDecoder.streamedXid(bytes, off, len));
                apply(decoder.decodeInStream(bytes, off, len), changeLsn);
                Failpoints.hit(Failpoints.MID_STREAMED_TRANSACTION);
            });
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw ConnectorException.system("Replaying streamed transaction " + Integer.toUnsignedString(c.xid())
                    + " failed", e);
        }
        toast.committed(c.xid(), exactImages);
        inTransaction = false;
        recent.committed(c.xid());
        commit(c.endLsn());
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
            // While states are held, a chunk waits too: its rows and the state recording them go out together,
            // and a change arriving meanwhile removes the chunk's row of its key, as it does before any emit.
            if (!toast.holdsState() && backfill.reached(position)) {
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
