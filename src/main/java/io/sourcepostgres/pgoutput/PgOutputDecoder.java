package io.sourcepostgres.pgoutput;

import io.sourcepostgres.pgoutput.PgOutputMessage.Begin;
import io.sourcepostgres.pgoutput.PgOutputMessage.Column;
import io.sourcepostgres.pgoutput.PgOutputMessage.Commit;
import io.sourcepostgres.pgoutput.PgOutputMessage.Delete;
import io.sourcepostgres.pgoutput.PgOutputMessage.Insert;
import io.sourcepostgres.pgoutput.PgOutputMessage.LogicalMessage;
import io.sourcepostgres.pgoutput.PgOutputMessage.Origin;
import io.sourcepostgres.pgoutput.PgOutputMessage.Relation;
import io.sourcepostgres.pgoutput.PgOutputMessage.StreamAbort;
import io.sourcepostgres.pgoutput.PgOutputMessage.StreamCommit;
import io.sourcepostgres.pgoutput.PgOutputMessage.StreamStart;
import io.sourcepostgres.pgoutput.PgOutputMessage.StreamStop;
import io.sourcepostgres.pgoutput.PgOutputMessage.Truncate;
import io.sourcepostgres.pgoutput.PgOutputMessage.Type;
import io.sourcepostgres.pgoutput.PgOutputMessage.Update;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;

/**
 * Decodes pgoutput messages (protocol versions 1 and 2, and protocol 4's Stream Abort) from the bytes one
 * XLogData carries, without copying them: tuple values stay slices of the caller's array (see
 * {@link TupleData}). No I/O, no SQL, no logging.
 *
 * <p>One decoder per replication stream, used by one thread: it remembers whether a Stream Start is open,
 * because inside a stream Relation, Type, Insert, Update, Delete, Truncate and Message carry the streamed
 * transaction's xid after the type byte, and nothing else on the wire says so. A new replication
 * connection starts with a new decoder: the server restarts at a transaction boundary.
 *
 * <p>Malformed input throws {@link PgOutputFormatException} naming the message type and the byte offset
 * within the message. The two-phase messages (protocol 3: Begin Prepare, Prepare, Commit Prepared,
 * Rollback Prepared, Stream Prepare) are refused as unexpected: they are only sent when the
 * {@code two_phase} option is asked for, and we never ask.
 */
public final class PgOutputDecoder {
    private static final VarHandle INT16 = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.BIG_ENDIAN);
    private static final VarHandle INT32 = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.BIG_ENDIAN);
    private static final VarHandle INT64 = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);
    private static final StreamStop STREAM_STOP = new StreamStop();
    /** Abort LSN and abort timestamp: what protocol 4 appends to Stream Abort under parallel streaming. */
    private static final int PARALLEL_ABORT_INFO_BYTES = 16;

    private boolean inStream;

    // The message being decoded. Fields rather than a reader object, so that decoding allocates only what
    // it returns.
    private byte[] buf;
    private int start;
    private int pos;
    private int end;
    private byte type;

    /**
     * Decodes a message that was received inside a stream segment and kept (spilled) until its transaction
     * committed: such a message carries its xid after the type byte, whatever the decoder's current state.
     */
    public PgOutputMessage decodeInStream(byte[] array, int offset, int length) {
        boolean was = inStream;
        inStream = true;
        try {
            return decode(array, offset, length);
        } finally {
            inStream = was;
        }
    }

    /**
     * The xid a data message received inside a stream segment carries (the transaction or subtransaction
     * that made the change), read without decoding the rest; 0 for messages that carry none.
     */
    public static int streamedXid(byte[] array, int offset, int length) {
        byte t = array[offset];
        boolean carries = t == 'R' || t == 'Y' || t == 'I' || t == 'U' || t == 'D' || t == 'T' || t == 'M';
        if (!carries || length < 5) {
            return 0;
        }
        return (int) INT32.get(array, offset + 1);
    }

    /** True between a Stream Start and its Stream Stop. */
    public boolean inStream() {
        return inStream;
    }

    /**
     * Decodes the message in {@code message}'s remaining bytes, leaving its position unchanged. A heap
     * buffer (what the replication stream's {@code poll()} returns) is decoded in place, at its
     * array offset; a direct buffer is copied first.
     */
    public PgOutputMessage decode(ByteBuffer message) {
        if (message.hasArray()) {
            return decode(message.array(), message.arrayOffset() + message.position(), message.remaining());
        }
        byte[] copy = new byte[message.remaining()];
        message.duplicate().get(copy);
        return decode(copy, 0, copy.length);
    }

    /** Decodes the one message in {@code array[offset, offset + length)}; tuple values point into {@code array}. */
    public PgOutputMessage decode(byte[] array, int offset, int length) {
        Objects.checkFromIndexSize(offset, length, array.length);
        buf = array;
        start = offset;
        pos = offset;
        end = offset + length;
        if (length == 0) {
            throw new PgOutputFormatException("empty pgoutput message: expected at least the message type byte");
        }
        type = array[pos++];
        try {
            PgOutputMessage message = switch (type) {
                case 'B' -> begin();
                case 'C' -> commit();
                case 'O' -> origin();
                case 'R' -> relation();
                case 'Y' -> type();
                case 'I' -> insert();
                case 'U' -> update();
                case 'D' -> delete();
                case 'T' -> truncate();
                case 'M' -> logicalMessage();
                case 'S' -> streamStart();
                case 'E' -> streamStop();
                case 'c' -> streamCommit();
                case 'A' -> streamAbort();
                case 'b', 'P', 'K', 'r', 'p' -> throw new PgOutputFormatException("unexpected pgoutput message "
                        + describe(type) + ": it belongs to two-phase decoding, which source-postgres never requests"
                        + " (the slot option two_phase must stay off)");
                default -> throw new PgOutputFormatException("unknown pgoutput message type " + describe(type)
                        + " at offset 0 of a " + length + "-byte message");
            };
            if (pos != end) {
                throw malformed("has " + (end - pos) + " unexpected trailing bytes", pos);
            }
            return message;
        } finally {
            buf = null; // do not keep the caller's buffer reachable
        }
    }

    private Begin begin() {
        long finalLsn = int64("final LSN");
        long commitTime = int64("commit timestamp");
        return new Begin(finalLsn, commitTime, int32("xid"));
    }

    private Commit commit() {
        int flags = int8("flags");
        long commitLsn = int64("commit LSN");
        long endLsn = int64("end LSN");
        return new Commit(flags, commitLsn, endLsn, int64("commit timestamp"));
    }

    private Origin origin() {
        long originLsn = int64("origin LSN");
        return new Origin(originLsn, string("origin name"));
    }

    private Relation relation() {
        int xid = streamedXid();
        int relationId = int32("relation id");
        String namespace = string("namespace");
        String name = string("relation name");
        char replicaIdentity = (char) int8("replica identity");
        int count = uint16("column count");
        Column[] columns = new Column[count];
        for (int i = 0; i < count; i++) {
            int flags = int8("column flags");
            String columnName = string("column name");
            int typeOid = int32("column type oid");
            columns[i] = new Column(flags, columnName, typeOid, int32("column type modifier"));
        }
        return new Relation(xid, relationId, namespace, name, replicaIdentity, List.of(columns));
    }

    private Type type() {
        int xid = streamedXid();
        int typeOid = int32("type oid");
        String namespace = string("type namespace");
        return new Type(xid, typeOid, namespace, string("type name"));
    }

    private Insert insert() {
        int xid = streamedXid();
        int relationId = int32("relation id");
        expect('N', "new tuple marker 'N'");
        return new Insert(xid, relationId, tuple());
    }

    private Update update() {
        int xid = streamedXid();
        int relationId = int32("relation id");
        int at = pos;
        byte marker = int8("tuple marker 'K', 'O' or 'N'");
        if (marker == 'N') {
            return new Update(xid, relationId, '\0', null, tuple());
        }
        if (marker != 'K' && marker != 'O') {
            throw malformed("has tuple marker " + symbol(marker) + " where 'K', 'O' or 'N' belongs", at);
        }
        TupleData oldTuple = tuple();
        expect('N', "new tuple marker 'N'");
        return new Update(xid, relationId, (char) marker, oldTuple, tuple());
    }

    private Delete delete() {
        int xid = streamedXid();
        int relationId = int32("relation id");
        int at = pos;
        byte marker = int8("tuple marker 'K' or 'O'");
        if (marker != 'K' && marker != 'O') {
            throw malformed("has tuple marker " + symbol(marker) + " where 'K' or 'O' belongs", at);
        }
        return new Delete(xid, relationId, (char) marker, tuple());
    }

    private Truncate truncate() {
        int xid = streamedXid();
        int at = pos;
        int count = int32("relation count");
        int options = int8("options");
        if (count < 0 || (long) count * 4 > end - pos) {
            throw malformed("announces " + Integer.toUnsignedString(count) + " relations but has room for "
                    + (end - pos) / 4, at);
        }
        int[] relationIds = new int[count];
        for (int i = 0; i < count; i++) {
            relationIds[i] = int32("relation id");
        }
        return new Truncate(xid, options, relationIds);
    }

    private LogicalMessage logicalMessage() {
        int xid = streamedXid();
        int flags = int8("flags");
        long lsn = int64("message LSN");
        String prefix = string("prefix");
        int length = length("content length");
        byte[] content = new byte[length];
        System.arraycopy(buf, pos, content, 0, length);
        pos += length;
        return new LogicalMessage(xid, (flags & 1) != 0, lsn, prefix, content);
    }

    private StreamStart streamStart() {
        if (inStream) {
            throw malformed("arrived while a stream was already open (no Stream Stop since the last Stream Start)", 0);
        }
        int xid = int32("xid");
        boolean first = int8("first segment flag") == 1;
        inStream = true;
        return new StreamStart(xid, first);
    }

    private StreamStop streamStop() {
        if (!inStream) {
            throw malformed("arrived without a Stream Start", 0);
        }
        inStream = false;
        return STREAM_STOP;
    }

    private StreamCommit streamCommit() {
        int xid = int32("xid");
        int flags = int8("flags");
        long commitLsn = int64("commit LSN");
        long endLsn = int64("end LSN");
        return new StreamCommit(xid, flags, commitLsn, endLsn, int64("commit timestamp"));
    }

    private StreamAbort streamAbort() {
        int xid = int32("xid");
        int subXid = int32("subtransaction xid");
        if (end - pos < PARALLEL_ABORT_INFO_BYTES) {
            return new StreamAbort(xid, subXid);
        }
        long abortLsn = int64("abort LSN");
        return new StreamAbort(xid, subXid, abortLsn, int64("abort timestamp"));
    }

    private TupleData tuple() {
        int at = pos;
        int count = uint16("tuple column count");
        if (count > end - pos) { // every column takes at least its kind byte
            throw malformed("announces " + count + " tuple columns but " + (end - pos) + " bytes remain", at);
        }
        byte[] kinds = new byte[count];
        int[] offsets = new int[count];
        int[] lengths = new int[count];
        for (int i = 0; i < count; i++) {
            at = pos;
            byte kind = int8("column kind");
            kinds[i] = kind;
            switch (kind) {
                case TupleData.NULL, TupleData.UNCHANGED_TOAST -> offsets[i] = pos;
                case TupleData.TEXT, TupleData.BINARY -> {
                    int length = length("value length");
                    offsets[i] = pos;
                    lengths[i] = length;
                    pos += length;
                }
                default -> throw malformed("has unknown kind " + symbol(kind) + " for tuple column " + i
                        + " (expected 'n', 'u', 't' or 'b')", at);
            }
        }
        return new TupleData(buf, kinds, offsets, lengths);
    }

    /** The xid pgoutput puts after the type byte of data messages inside a stream; 0 outside one. */
    private int streamedXid() {
        return inStream ? int32("streamed transaction xid") : 0;
    }

    private void expect(char marker, String what) {
        int at = pos;
        byte b = int8(what);
        if (b != marker) {
            throw malformed("has " + symbol(b) + " where the " + what + " belongs", at);
        }
    }

    private byte int8(String what) {
        need(1, what);
        return buf[pos++];
    }

    private int uint16(String what) {
        need(2, what);
        int v = Short.toUnsignedInt((short) INT16.get(buf, pos));
        pos += 2;
        return v;
    }

    private int int32(String what) {
        need(4, what);
        int v = (int) INT32.get(buf, pos);
        pos += 4;
        return v;
    }

    private long int64(String what) {
        need(8, what);
        long v = (long) INT64.get(buf, pos);
        pos += 8;
        return v;
    }

    /** An Int32 byte count that must be non-negative and fit in what remains. */
    private int length(String what) {
        int at = pos;
        int length = int32(what);
        if (length < 0 || length > end - pos) {
            throw malformed("announces " + length + " bytes for the " + what.replace(" length", "") + " but "
                    + (end - pos) + " remain", at);
        }
        return length;
    }

    private String string(String what) {
        for (int i = pos; i < end; i++) {
            if (buf[i] == 0) {
                String s = new String(buf, pos, i - pos, StandardCharsets.UTF_8);
                pos = i + 1;
                return s;
            }
        }
        throw malformed("is truncated: the " + what + " has no terminating NUL byte", pos);
    }

    private void need(int bytes, String what) {
        if (end - pos < bytes) {
            throw malformed("is truncated: the " + what + " needs " + bytes + " bytes but " + (end - pos) + " remain", pos);
        }
    }

    private PgOutputFormatException malformed(String problem, int at) {
        return new PgOutputFormatException("pgoutput " + describe(type) + " message " + problem + " (at offset "
                + (at - start) + " of a " + (end - start) + "-byte message)");
    }

    private static String describe(byte b) {
        String name = switch (b) {
            case 'B' -> "Begin";
            case 'C' -> "Commit";
            case 'O' -> "Origin";
            case 'R' -> "Relation";
            case 'Y' -> "Type";
            case 'I' -> "Insert";
            case 'U' -> "Update";
            case 'D' -> "Delete";
            case 'T' -> "Truncate";
            case 'M' -> "Message";
            case 'S' -> "Stream Start";
            case 'E' -> "Stream Stop";
            case 'c' -> "Stream Commit";
            case 'A' -> "Stream Abort";
            case 'b' -> "Begin Prepare";
            case 'P' -> "Prepare";
            case 'K' -> "Commit Prepared";
            case 'r' -> "Rollback Prepared";
            case 'p' -> "Stream Prepare";
            default -> null;
        };
        return name == null ? symbol(b) : name + " (" + symbol(b) + ")";
    }

    private static String symbol(byte b) {
        return b >= 0x20 && b < 0x7f ? "'" + (char) b + "'" : String.format("0x%02X", b & 0xFF);
    }
}
