package io.sourcepostgres.replication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The reader thread's framing of the CopyBoth stream, on the bytes a server sends: every XLogData and keepalive
 * reaches the capture in order, a keepalive asking for a reply is answered, and each way the stream can end is
 * the failure pgjdbc gave for it (so the failure type stays what it was).
 */
class ReplicationReaderTest {
    private static final HexFormat HEX = HexFormat.of();
    private static final String XLOG_1 = "77" + "00000000016b3748" + "00000000016b3790" + "0002d1a9c1e3f2a0" + "42";
    private static final String XLOG_2 = "77" + "00000000016b3790" + "00000000016b3790" + "0002d1a9c1e3f2a0" + "43";
    private static final String KEEPALIVE_ASKING = "6b" + "00000000016b37c8" + "0002d1a9c1e3f2a0" + "01";
    private static final String KEEPALIVE = "6b" + "00000000016b37c8" + "0002d1a9c1e3f2a0" + "00";

    /** One backend message: type, length including itself, body. */
    private static byte[] message(char type, byte[] body) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(type);
        int len = body.length + 4;
        out.write(len >>> 24);
        out.write(len >>> 16);
        out.write(len >>> 8);
        out.write(len);
        out.writeBytes(body);
        return out.toByteArray();
    }

    private static byte[] copyData(String hex) {
        return message('d', HEX.parseHex(hex));
    }

    /** An ErrorResponse: severity, SQLSTATE, message fields, each NUL-terminated, then a NUL. */
    private static byte[] error(String sqlState, String text) {
        String fields = "SERROR\0VERROR\0C" + sqlState + "\0M" + text + "\0\0";
        return message('E', fields.getBytes(StandardCharsets.UTF_8));
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    /** The bytes, then a socket timeout at each offset in {@code timeoutsAt} (before the byte there), then EOF. */
    private static ReplicationReader.Wire wire(byte[] bytes, int... timeoutsAt) {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes));
        AtomicInteger read = new AtomicInteger();
        List<Integer> timeouts = new ArrayList<>();
        for (int t : timeoutsAt) {
            timeouts.add(t);
        }
        return new ReplicationReader.Wire() {
            private void maybeTimeOut() throws SocketTimeoutException {
                if (timeouts.remove((Integer) read.get())) {
                    throw new SocketTimeoutException("Read timed out");
                }
            }

            @Override
            public int receiveChar() throws IOException {
                maybeTimeOut();
                int c = in.read();
                if (c < 0) {
                    throw new EOFException();
                }
                read.incrementAndGet();
                return c;
            }

            @Override
            public int receiveInteger4() throws IOException {
                maybeTimeOut();
                read.addAndGet(4);
                return in.readInt();
            }

            @Override
            public void receive(byte[] into, int offset, int length) throws IOException {
                maybeTimeOut();
                in.readFully(into, offset, length);
                read.addAndGet(length);
            }
        };
    }

    private record Run(List<String> messages, SQLException end, int replies) { }

    private static Run read(ReplicationReader.Wire wire, boolean stopping) throws Exception {
        ReceivedMessages queue = new ReceivedMessages(100, 1 << 20);
        AtomicInteger replies = new AtomicInteger();
        new ReplicationReader(wire, queue, replies::incrementAndGet, () -> stopping).run();
        List<String> got = new ArrayList<>();
        try {
            for (byte[] m; (m = queue.poll(0)) != null; ) {
                got.add(HEX.formatHex(m));
            }
            throw new AssertionError("the reader ended without a failure for the capture");
        } catch (SQLException e) {
            return new Run(got, e, replies.get());
        }
    }

    @Test
    void everyXLogDataAndKeepaliveArrivesInOrderAndAKeepaliveAskingForAReplyIsAnswered() throws Exception {
        byte[] bytes = concat(copyData(XLOG_1), message('N', "SNOTICE\0Mhello\0\0".getBytes(StandardCharsets.UTF_8)),
                copyData(KEEPALIVE_ASKING), message('S', "a\0b\0".getBytes(StandardCharsets.UTF_8)),
                copyData(XLOG_2), copyData(KEEPALIVE));
        Run run = read(wire(bytes), false);
        assertThat(run.messages()).containsExactly(XLOG_1, KEEPALIVE_ASKING, XLOG_2, KEEPALIVE);
        assertThat(run.replies()).isEqualTo(1);
        // The connection ended after the last message: a lost connection, as pgjdbc reported it.
        assertThat(run.end().getSQLState()).isEqualTo("08006");
        assertThat(run.end().getCause()).isInstanceOf(EOFException.class);
    }

    @Test
    void silenceBetweenMessagesIsAnIdleStreamNotAFailure() throws Exception {
        byte[] first = copyData(XLOG_1);
        byte[] bytes = concat(first, copyData(XLOG_2));
        Run run = read(wire(bytes, 0, first.length, first.length), false);
        assertThat(run.messages()).containsExactly(XLOG_1, XLOG_2);
        assertThat(run.end().getCause()).isInstanceOf(EOFException.class);
    }

    @Test
    void silenceInsideAMessageIsALostConnection() throws Exception {
        byte[] first = copyData(XLOG_1);
        Run run = read(wire(concat(first, copyData(XLOG_2)), first.length + 5), false);
        assertThat(run.messages()).containsExactly(XLOG_1);
        assertThat(run.end().getSQLState()).isEqualTo("08006");
        assertThat(run.end().getCause()).isInstanceOf(SocketTimeoutException.class);
    }

    @Test
    void silenceWhileClosingEndsTheReading() throws Exception {
        byte[] first = copyData(XLOG_1);
        Run run = read(wire(concat(first, copyData(XLOG_2)), first.length), true);
        assertThat(run.messages()).containsExactly(XLOG_1);
        assertThat(run.end().getSQLState()).isEqualTo("08003");
    }

    @Test
    void aServerErrorFollowedByReadyForQueryIsThatErrorAfterTheMessagesBeforeIt() throws Exception {
        byte[] bytes = concat(copyData(XLOG_1), error("42704", "publication \"p\" does not exist"),
                message('Z', new byte[] {'I'}));
        Run run = read(wire(bytes), false);
        assertThat(run.messages()).containsExactly(XLOG_1);
        assertThat(run.end().getSQLState()).isEqualTo("42704");
        assertThat(run.end().getMessage()).contains("publication \"p\" does not exist");
    }

    @Test
    void aServerErrorFollowedByTheConnectionsEndIsALostConnection() throws Exception {
        // pgjdbc's copy handling kept reading after an ErrorResponse and reported the I/O failure that came next.
        Run run = read(wire(concat(error("57P01", "terminating connection due to administrator command"))), false);
        assertThat(run.end().getSQLState()).isEqualTo("08006");
    }

    @Test
    void aCopyTheServerEndedIsAClosedStream() throws Exception {
        byte[] bytes = concat(copyData(XLOG_1), message('c', new byte[0]),
                message('C', "START_REPLICATION\0".getBytes(StandardCharsets.UTF_8)), message('Z', new byte[] {'I'}));
        Run run = read(wire(bytes), false);
        assertThat(run.messages()).containsExactly(XLOG_1);
        assertThat(run.end().getSQLState()).isEqualTo("08003");
    }

    @Test
    void anUnknownCopyDataKindOrMessageTypeIsAProtocolViolation() throws Exception {
        assertThat(read(wire(concat(copyData(XLOG_1), copyData("7a00"))), false).end().getSQLState()).isEqualTo("08P01");
        assertThat(read(wire(concat(copyData("6b00"))), false).end().getSQLState()).isEqualTo("08P01");
        assertThat(read(wire(message('T', new byte[2])), false).end().getSQLState()).isEqualTo("08P01");
    }

    @Test
    void aFailureIsTakenOnlyAfterEveryMessageBeforeIt() throws Exception {
        ReceivedMessages queue = new ReceivedMessages(100, 1 << 20);
        queue.put(HEX.parseHex(XLOG_1));
        queue.fail(new SQLException("gone", "08006"));
        assertThat(HEX.formatHex(queue.poll(0))).isEqualTo(XLOG_1);
        assertThatThrownBy(() -> queue.poll(0)).hasMessage("gone");
        assertThatThrownBy(() -> queue.poll(1_000_000)).hasMessage("gone");
    }
}
