package io.sourcepostgres.pgoutput;

import java.util.List;

/**
 * The messages of PostgreSQL's logical replication protocol as sent by {@code pgoutput} (protocol
 * versions 1 and 2), decoded from bytes by {@link PgOutputDecoder}. LSNs are unsigned 64-bit values held
 * in a long; timestamps are microseconds since 2000-01-01 UTC (the PostgreSQL epoch), as on the wire.
 *
 * <p>In protocol 2, the data messages sent inside a stream (Relation, Type, Insert, Update, Delete,
 * Truncate, Message) carry the xid of the transaction that made the change: the streamed transaction's,
 * or that of its subtransaction, which a later Stream Abort may discard on its own. Outside a stream that
 * field is 0 and absent from the wire. Xids are unsigned 32-bit values held in an int
 * ({@link Integer#toUnsignedLong} for display). Relation and Type namespaces are {@code ""} for
 * {@code pg_catalog}, as pgoutput sends them.
 */
public sealed interface PgOutputMessage {

    /** B: a transaction begins. {@code finalLsn} is the LSN of its commit record. */
    record Begin(long finalLsn, long commitTimeMicros, int xid) implements PgOutputMessage {}

    /** C: the transaction commits; {@code endLsn} is the position just past its commit record. */
    record Commit(int flags, long commitLsn, long endLsn, long commitTimeMicros) implements PgOutputMessage {}

    /** O: the transaction came from another origin (replicated from elsewhere). */
    record Origin(long originLsn, String name) implements PgOutputMessage {}

    /** R: describes a relation before the first change to it (and again after it changes). */
    record Relation(int xid, int relationId, String namespace, String name, char replicaIdentity, List<Column> columns)
            implements PgOutputMessage {}

    /** One column of a Relation. {@code flags} bit 1 marks a column that is part of the replica identity key. */
    record Column(int flags, String name, int typeOid, int typmod) {
        public boolean isKey() {
            return (flags & 1) != 0;
        }
    }

    /** Y: describes a non-builtin type a following Relation refers to. */
    record Type(int xid, int typeOid, String namespace, String name) implements PgOutputMessage {}

    /** I: a row was inserted. */
    record Insert(int xid, int relationId, TupleData newTuple) implements PgOutputMessage {}

    /**
     * U: a row was updated. {@code oldTuple} is the old key ('K', when the replica identity key changed;
     * columns outside the key are 'n'), the whole old row ('O', under REPLICA IDENTITY FULL), or null with
     * {@code oldKind} '\0'.
     */
    record Update(int xid, int relationId, char oldKind, TupleData oldTuple, TupleData newTuple) implements PgOutputMessage {}

    /** D: a row was deleted; {@code oldTuple} is the key ('K') or the whole old row ('O'). */
    record Delete(int xid, int relationId, char oldKind, TupleData oldTuple) implements PgOutputMessage {}

    /** T: tables were truncated. Option bit 1 = CASCADE, bit 2 = RESTART IDENTITY. */
    record Truncate(int xid, int options, int[] relationIds) implements PgOutputMessage {
        public static final int CASCADE = 1;
        public static final int RESTART_IDENTITY = 2;

        public boolean cascade() {
            return (options & CASCADE) != 0;
        }

        public boolean restartIdentity() {
            return (options & RESTART_IDENTITY) != 0;
        }
    }

    /**
     * M: a logical decoding message from {@code pg_logical_emit_message} (sent only with the {@code messages}
     * option, PostgreSQL 14+). {@code lsn} is where its WAL record ends. A non-transactional message arrives
     * when it is decoded, outside any Begin/Commit or stream, even if it was emitted inside a transaction.
     */
    record LogicalMessage(int xid, boolean transactional, long lsn, String prefix, byte[] content) implements PgOutputMessage {}

    /** S: the following messages belong to in-progress transaction {@code xid} (protocol 2). */
    record StreamStart(int xid, boolean firstSegment) implements PgOutputMessage {}

    /** E: the current stream segment ends (protocol 2). */
    record StreamStop() implements PgOutputMessage {}

    /** c: a streamed transaction committed (protocol 2). */
    record StreamCommit(int xid, int flags, long commitLsn, long endLsn, long commitTimeMicros) implements PgOutputMessage {}

    /**
     * A: a streamed transaction, or one of its subtransactions {@code subXid}, aborted (protocol 2);
     * {@code subXid == xid} when the whole transaction aborted. {@code abortLsn} and {@code abortTimeMicros}
     * are sent only under protocol 4 with {@code streaming = parallel}; otherwise they are 0.
     */
    record StreamAbort(int xid, int subXid, long abortLsn, long abortTimeMicros) implements PgOutputMessage {
        public StreamAbort(int xid, int subXid) {
            this(xid, subXid, 0, 0);
        }

        public boolean wholeTransaction() {
            return xid == subXid;
        }
    }
}
