package io.sourcepostgres.replication;

import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.util.function.BooleanSupplier;
import org.postgresql.util.PSQLException;
import org.postgresql.util.PSQLState;
import org.postgresql.util.ServerErrorMessage;

/**
 * Reads the replication connection's CopyBoth stream with blocking reads, on a thread of its own, and hands each
 * XLogData and keepalive to {@link ReceivedMessages} in arrival order; a keepalive that asks for a reply is
 * answered at once. The capture thread then waits on the queue, which wakes it when a message arrives, instead
 * of polling the socket: pgjdbc's {@code readPending} did a 1 ms timed read whenever its buffer was empty, so a
 * capture faster than the walsender woke once per message and paid a {@code SocketTimeoutException} for every
 * empty millisecond.
 *
 * <p>Failures are pgjdbc's own, so that they are classified as before: an I/O failure (a cut, or a socket
 * timeout in the middle of a message) is {@code 08006} with the I/O exception as cause; a server's
 * ErrorResponse is that error once the server says it is ready again (as pgjdbc's copy handling throws it), or
 * the I/O failure if the connection ends first; a copy the server ended is {@code 08003}. A socket timeout
 * between two messages is an idle stream, not a failure: the capture's liveness check judges silence.
 */
final class ReplicationReader implements Runnable {
    /** The connection's input, as pgjdbc's PGStream reads it (TLS and tunnels included). */
    interface Wire {
        /** The next byte; a {@link SocketTimeoutException} when none came within the socket timeout. */
        int receiveChar() throws IOException;

        int receiveInteger4() throws IOException;

        void receive(byte[] into, int offset, int length) throws IOException;
    }

    /** Sends a status update now, as the answer to a keepalive that asks for one. */
    interface Reply {
        void send() throws SQLException;
    }

    /** A read that took longer than this waited for the server: the socket had been drained. */
    static final long BLOCKED_NANOS = 100_000L;
    /**
     * How long the reader pauses after a read that waited, so that the next read finds many messages instead of
     * waking once per message (the walsender writes each message on its own). It bounds the latency this adds.
     */
    static final long PAUSE_NANOS = 1_000_000L;

    private final Wire wire;
    private final ReceivedMessages queue;
    private final Reply reply;
    /** True once the capture has asked the server to end the stream: a silent socket then ends the reading. */
    private final BooleanSupplier stopping;
    private final Runnable pause;

    ReplicationReader(Wire wire, ReceivedMessages queue, Reply reply, BooleanSupplier stopping) {
        this(wire, queue, reply, stopping, () -> java.util.concurrent.locks.LockSupport.parkNanos(PAUSE_NANOS));
    }

    ReplicationReader(Wire wire, ReceivedMessages queue, Reply reply, BooleanSupplier stopping, Runnable pause) {
        this.wire = wire;
        this.queue = queue;
        this.reply = reply;
        this.stopping = stopping;
        this.pause = pause;
    }

    @Override
    public void run() {
        queue.fail(readUntilEnd());
    }

    /** Reads until the stream ends, and says how it ended. */
    SQLException readUntilEnd() {
        SQLException serverError = null;
        boolean waited = false;
        try {
            while (true) {
                if (waited) {
                    // Every message read so far is queued: the capture has them while the socket fills up.
                    pause.run();
                }
                int type;
                try {
                    long before = System.nanoTime();
                    type = wire.receiveChar();
                    waited = System.nanoTime() - before > BLOCKED_NANOS;
                } catch (SocketTimeoutException e) {
                    if (stopping.getAsBoolean()) {
                        return closed();
                    }
                    continue; // between messages: an idle stream
                }
                int length = wire.receiveInteger4() - 4;
                if (length < 0) {
                    return new PSQLException("Invalid length " + (length + 4) + " of a message of type "
                            + type + " during replication", PSQLState.PROTOCOL_VIOLATION);
                }
                byte[] body = new byte[length];
                wire.receive(body, 0, length);
                switch (type) {
                    case 'd' -> {
                        SQLException bad = copyData(body);
                        if (bad != null) {
                            return bad;
                        }
                    }
                    case 'E' -> serverError = new PSQLException(new ServerErrorMessage(new String(body, StandardCharsets.UTF_8)));
                    case 'Z' -> {
                        return serverError != null ? serverError : closed();
                    }
                    // CopyDone (the server ended the copy; CommandComplete and ReadyForQuery follow), CommandComplete,
                    // NoticeResponse, ParameterStatus, NotificationResponse: nothing for the capture.
                    case 'c', 'C', 'N', 'S', 'A' -> { }
                    default -> {
                        return new PSQLException("Unexpected packet type during replication: " + type,
                                PSQLState.PROTOCOL_VIOLATION);
                    }
                }
            }
        } catch (IOException e) {
            return new PSQLException("Database connection failed when reading from copy", PSQLState.CONNECTION_FAILURE, e);
        } catch (SQLException e) {
            return e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return closed();
        }
    }

    /** Queues an XLogData or keepalive; answers a keepalive that asks for it. Null, or why the message is bad. */
    private SQLException copyData(byte[] m) throws InterruptedException, SQLException {
        if (m.length > 0 && m[0] == CopyBothMessages.XLOG_DATA && m.length >= CopyBothMessages.XLOG_DATA_HEADER) {
            queue.put(m);
            return null;
        }
        if (m.length > 0 && m[0] == CopyBothMessages.KEEPALIVE && m.length >= CopyBothMessages.KEEPALIVE_LENGTH) {
            // Answered here, not when the capture gets to it: a busy capture must not let the walsender time out.
            if (CopyBothMessages.replyRequested(m)) {
                reply.send();
            }
            queue.put(m);
            return null;
        }
        return new PSQLException("Unexpected packet type during replication: "
                + (m.length == 0 ? "(empty)" : Integer.toString(m[0])), PSQLState.PROTOCOL_VIOLATION);
    }

    private static PSQLException closed() {
        return new PSQLException("This replication stream has been closed.", PSQLState.CONNECTION_DOES_NOT_EXIST);
    }
}
