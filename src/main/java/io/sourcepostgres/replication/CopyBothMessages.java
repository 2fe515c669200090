package io.sourcepostgres.replication;

import java.nio.ByteBuffer;

/**
 * The streaming replication sub-protocol inside CopyData messages (PostgreSQL's "Streaming Replication
 * Protocol"): what the server sends — XLogData ({@code 'w'}) and Primary keepalive ({@code 'k'}) — and what
 * the client sends back, the Standby status update ({@code 'r'}). Pure byte layout, big-endian as on the wire.
 */
public final class CopyBothMessages {
    public static final byte XLOG_DATA = 'w';
    public static final byte KEEPALIVE = 'k';
    public static final byte STATUS_UPDATE = 'r';
    /** 'w', the WAL start of the data, the server's WAL end, its send time: then the pgoutput message. */
    public static final int XLOG_DATA_HEADER = 1 + 8 + 8 + 8;
    /** 'k', the server's WAL end, its send time, reply-requested. */
    public static final int KEEPALIVE_LENGTH = 1 + 8 + 8 + 1;
    public static final int STATUS_UPDATE_LENGTH = 1 + 8 + 8 + 8 + 8 + 1;
    /** Microseconds from the Unix epoch to PostgreSQL's, 2000-01-01 UTC. */
    private static final long POSTGRES_EPOCH_MICROS = 946_684_800_000_000L;

    private CopyBothMessages() {}

    /** For an XLogData message: the WAL position of the change it carries (its "WAL start"). */
    public static long walStart(byte[] message) {
        return getLong(message, 1);
    }

    /** For a keepalive: the position up to which the server has sent everything. */
    public static long keepaliveWalEnd(byte[] message) {
        return getLong(message, 1);
    }

    /** For a keepalive: whether the server asks for a status update at once (it would end the session otherwise). */
    public static boolean replyRequested(byte[] message) {
        return message[KEEPALIVE_LENGTH - 1] != 0;
    }

    /** An XLogData message's pgoutput payload, without copying. */
    public static ByteBuffer payload(byte[] message) {
        return ByteBuffer.wrap(message, XLOG_DATA_HEADER, message.length - XLOG_DATA_HEADER).slice();
    }

    /**
     * A Standby status update: everything before {@code received} was received, before {@code flushed}
     * durably stored, before {@code applied} applied; {@code replyRequested} asks the server for a keepalive.
     */
    public static byte[] statusUpdate(long received, long flushed, long applied, long unixMicros, boolean replyRequested) {
        byte[] m = new byte[STATUS_UPDATE_LENGTH];
        m[0] = STATUS_UPDATE;
        putLong(m, 1, received);
        putLong(m, 9, flushed);
        putLong(m, 17, applied);
        putLong(m, 25, unixMicros - POSTGRES_EPOCH_MICROS);
        m[33] = (byte) (replyRequested ? 1 : 0);
        return m;
    }

    static long getLong(byte[] b, int at) {
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = (v << 8) | (b[at + i] & 0xFF);
        }
        return v;
    }

    private static void putLong(byte[] b, int at, long v) {
        for (int i = 7; i >= 0; i--) {
            b[at + i] = (byte) v;
            v >>>= 8;
        }
    }
}
