package io.sourcepostgres.replication;

import io.sourcepostgres.airbyte.ConnectorException;
import io.sourcepostgres.failpoints.Failpoints;
import io.sourcepostgres.pgoutput.PgOutputDecoder;
import io.sourcepostgres.pgoutput.PgOutputMessage;
import java.nio.ByteBuffer;
import java.sql.SQLException;

/**
 * The replication stream as the capture sees it: decoded pgoutput messages of committed transactions, each
 * transaction whole, in commit order, and the server's keepalive position in between.
 *
 * <p>Hidden here: protocol 2's in-progress segments (between Stream Start and Stream Stop) are spilled to disk
 * ({@link StreamedTransactions}) and, at their Stream Commit, handed on as an ordinary Begin, changes, Commit;
 * a Stream Abort drops them (or only an aborted subtransaction's part). Relation and Type messages update the
 * {@link RelationCache} in stream order, before any change that refers to them, and are not handed on. So the
 * receiver sees Begin, Insert/Update/Delete/Truncate, logical messages and origins, Commit — nothing else.
 */
public final class CommittedChanges {
    /** Receives what the stream carries, one message at a time, on the thread that polls. */
    public interface Receiver {
        /**
         * A message of a committed transaction, at WAL position {@code lsn}. A tuple's values point into a
         * buffer that the next message reuses: read them during the call.
         */
        void message(PgOutputMessage message, long lsn);

        /**
         * Called before each change of a streamed transaction as it is handed on: the transaction or
         * subtransaction that wrote it (changes sent at commit carry no xid of their own).
         */
        default void writtenBy(int xid) { }
    }

    private final MessageSource stream;
    private final StreamedTransactions streamed;
    private final RelationCache relations;
    private final PgOutputDecoder decoder = new PgOutputDecoder();
    /** The transaction of the open protocol-2 segment; meaningful only while the decoder is in a stream. */
    private int segmentXid;

    public CommittedChanges(MessageSource stream, StreamedTransactions streamed, RelationCache relations) {
        this.stream = stream;
        this.streamed = streamed;
        this.relations = relations;
    }

    public RelationCache relations() {
        return relations;
    }

    /**
     * Takes the next message the server sent, if one is waiting, and hands what it completes to
     * {@code receiver} (nothing for a message kept for later, a whole transaction for a Stream Commit).
     *
     * @return false when nothing was waiting: the server has sent all it has for now
     */
    public boolean poll(Receiver receiver) throws SQLException {
        ByteBuffer buf = stream.poll();
        if (buf == null) {
            return false;
        }
        byte[] bytes = buf.array();
        int offset = buf.arrayOffset() + buf.position();
        int length = buf.remaining();
        long lsn = stream.lastReceivedLsn();
        if (decoder.inStream() && bytes[offset] != 'E' && bytes[offset] != 'S') {
            streamed.append(segmentXid, PgOutputDecoder.streamedXid(bytes, offset, length), lsn, bytes, offset, length);
            return true;
        }
        PgOutputMessage message = decoder.decode(bytes, offset, length);
        if (message instanceof PgOutputMessage.StreamStart s) {
            segmentXid = s.xid();
        } else if (message instanceof PgOutputMessage.StreamAbort a) {
            streamed.abort(a.xid(), a.subXid());
        } else if (message instanceof PgOutputMessage.StreamCommit c) {
            replay(c, receiver);
        } else if (!(message instanceof PgOutputMessage.StreamStop)) {
            pass(message, lsn, receiver);
        }
        return true;
    }

    /**
     * True between two transactions as the receiver sees them is not enough for a resume position: while a
     * protocol-2 segment is open, the keepalive position lies inside a transaction still being sent.
     */
    public boolean insideSegment() {
        return decoder.inStream();
    }

    /** The server's last reported position: after a keepalive, everything before it has been sent. */
    public long keepalivePosition() {
        return stream.lastReceivedLsn();
    }

    /** Sends a status update now; a caught-up walsender answers with a keepalive carrying its position. */
    public void solicitKeepalive() throws SQLException {
        stream.sendStatus();
    }

    private void pass(PgOutputMessage message, long lsn, Receiver receiver) {
        if (message instanceof PgOutputMessage.Relation r) {
            relations.onRelation(r);
        } else if (message instanceof PgOutputMessage.Type t) {
            relations.onType(t);
        } else {
            receiver.message(message, lsn);
        }
    }

    private void replay(PgOutputMessage.StreamCommit c, Receiver receiver) {
        receiver.message(new PgOutputMessage.Begin(c.commitLsn(), c.commitTimeMicros(), c.xid()), c.commitLsn());
        try {
            streamed.replay(c.xid(), (changeLsn, bytes, off, len) -> {
                receiver.writtenBy(PgOutputDecoder.streamedXid(bytes, off, len));
                pass(decoder.decodeInStream(bytes, off, len), changeLsn, receiver);
                Failpoints.hit(Failpoints.MID_STREAMED_TRANSACTION);
            });
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw ConnectorException.system("Replaying streamed transaction " + Integer.toUnsignedString(c.xid())
                    + " failed", e);
        }
        receiver.message(new PgOutputMessage.Commit(c.flags(), c.commitLsn(), c.endLsn(), c.commitTimeMicros()), c.endLsn());
    }
}
