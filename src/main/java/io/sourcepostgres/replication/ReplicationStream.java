package io.sourcepostgres.replication;

import io.sourcepostgres.airbyte.ConnectorException;
import io.sourcepostgres.failpoints.Failpoints;
import io.sourcepostgres.pgoutput.Lsn;
import io.sourcepostgres.postgres.SqlFailures;
import java.nio.ByteBuffer;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.postgresql.core.PGStream;
import org.postgresql.core.QueryExecutorBase;
import org.postgresql.jdbc.PgConnection;
import org.postgresql.replication.LogSequenceNumber;
import org.postgresql.util.PSQLException;
import org.postgresql.util.PSQLState;

/**
 * The pgoutput stream of one replication slot. pgjdbc's replication API starts it (START_REPLICATION with automatic
 * flushing off); from then on a {@link ReplicationReader} thread reads the connection with blocking reads and
 * this class writes the status updates, so the capture thread waits on a queue that wakes it when a message
 * comes instead of polling the socket. The server learns a flushed position only from {@link #acknowledge},
 * which the capture calls with the position the orchestrator has durably stored — never with anything newer.
 */
public final class ReplicationStream implements MessageSource, AutoCloseable {
    /** How long {@link #poll} waits for a message before saying none is waiting, as pgjdbc's readPending did. */
    private static final long POLL_WAIT_NANOS = 1_000_000L;
    /** Messages the reader may read ahead of the capture: enough to cover a scheduling delay, little memory. */
    private static final int QUEUE_MESSAGES = 4096;
    private static final long QUEUE_BYTES = 8L << 20;
    private static final java.lang.reflect.Field PG_STREAM = pgStreamField();

    private final PgConnection connection;
    private final PGStream wire;
    private final int protocolVersion;
    private final long statusIntervalNanos;
    private final ReceivedMessages queue = new ReceivedMessages(QUEUE_MESSAGES, QUEUE_BYTES);
    private final Thread reader;
    /** Status updates come from the capture thread and, for a keepalive asking for one, the reader thread. */
    private final Object writeLock = new Object();
    /** As the capture has taken the messages (the reader thread reads it for its keepalive replies). */
    private volatile long lastReceived;
    private volatile long flushed;
    private volatile long lastStatusNanos;
    private volatile boolean closing;

    private ReplicationStream(PgConnection connection, PGStream wire, int protocolVersion, long startLsn,
            Duration statusInterval) {
        this.connection = connection;
        this.wire = wire;
        this.protocolVersion = protocolVersion;
        this.statusIntervalNanos = Math.max(1, statusInterval.toSeconds()) * 1_000_000_000L;
        // Until the first acknowledgement the server must hear the start position, not 0/0.
        this.lastReceived = startLsn;
        this.flushed = startLsn;
        this.lastStatusNanos = System.nanoTime() - statusIntervalNanos;
        ReplicationReader.Wire in = new ReplicationReader.Wire() {
            @Override
            public int receiveChar() throws java.io.IOException {
                return wire.receiveChar();
            }

            @Override
            public int receiveInteger4() throws java.io.IOException {
                return wire.receiveInteger4();
            }

            @Override
            public void receive(byte[] into, int offset, int length) throws java.io.IOException {
                wire.receive(into, offset, length);
            }
        };
        this.reader = new Thread(new ReplicationReader(in, queue, () -> sendStatusUpdate(false), () -> closing),
                "replication-reader");
        reader.setDaemon(true);
    }

    /**
     * Starts streaming {@code slot} from {@code startLsn}.
     *
     * @param serverVersion {@code server_version_num}: protocol 2 with streaming of large in-progress
     *     transactions and logical decoding messages from 14 on, protocol 1 before
     */
    public static ReplicationStream start(PgConnection replicationConnection, String slot, long startLsn,
            String publication, int serverVersion, Duration statusInterval) {
        int proto = serverVersion >= 140000 ? 2 : 1;
        PGStream wire = pgStreamOf(replicationConnection);
        try {
            var builder = replicationConnection.getReplicationAPI().replicationStream().logical()
                    .withSlotName(slot)
                    .withStartPosition(LogSequenceNumber.valueOf(startLsn))
                    .withSlotOption("proto_version", String.valueOf(proto))
                    .withSlotOption("publication_names", quoteIdent(publication))
                    .withStatusInterval((int) Math.max(1, statusInterval.toSeconds()), TimeUnit.SECONDS)
                    .withAutomaticFlush(false);
            if (proto >= 2) {
                builder = builder.withSlotOption("messages", "true").withSlotOption("streaming", "on");
            }
            // pgjdbc sends START_REPLICATION and reads the CopyBothResponse; the stream object it returns is not
            // read from again: the reader thread takes the connection's input from here on.
            builder.start();
        } catch (SQLException e) {
            throw translateStartFailure(e, slot, publication, startLsn);
        }
        ReplicationStream s = new ReplicationStream(replicationConnection, wire, proto, startLsn, statusInterval);
        s.reader.start();
        return s;
    }

    /** The process id of the server's walsender for this stream (pg_replication_slots.active_pid). */
    public int backendPid() {
        return connection.getBackendPID();
    }

    public int protocolVersion() {
        return protocolVersion;
    }

    /**
     * The next message's bytes, or null when none came within a millisecond (keepalives are handled inside).
     * A failure of the connection is thrown here, after every message received before it.
     */
    @Override
    public ByteBuffer poll() throws SQLException {
        if (System.nanoTime() - lastStatusNanos >= statusIntervalNanos) {
            sendStatusUpdate(false);
        }
        long wait = POLL_WAIT_NANOS;
        while (true) {
            byte[] m;
            try {
                m = queue.poll(wait);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new PSQLException("Interrupted while waiting for the replication stream", PSQLState.UNKNOWN_STATE, e);
            }
            if (m == null) {
                return null;
            }
            if (m[0] == CopyBothMessages.XLOG_DATA) {
                lastReceived = CopyBothMessages.walStart(m);
                return CopyBothMessages.payload(m);
            }
            long end = CopyBothMessages.keepaliveWalEnd(m);
            if (io.sourcepostgres.pgoutput.Lsn.compare(end, lastReceived) > 0) {
                lastReceived = end;
            }
            wait = 0; // after a keepalive, only what is already waiting
        }
    }

    /**
     * The WAL position of the last message received: for a data message, the LSN of the change it
     * carries; after a keepalive, the position up to which the server has sent everything.
     */
    @Override
    public long lastReceivedLsn() {
        return lastReceived;
    }

    /** Tells the server that everything before {@code lsn} is durably stored downstream. */
    public void acknowledge(long lsn) {
        Failpoints.hit(Failpoints.BEFORE_SLOT_CONFIRM);
        flushed = lsn;
    }

    /** Sends a standby status update now (it also solicits a keepalive once the server is caught up). */
    @Override
    public void sendStatus() throws SQLException {
        sendStatusUpdate(true);
    }

    private void sendStatusUpdate(boolean replyRequested) throws SQLException {
        long f = flushed;
        byte[] m = CopyBothMessages.statusUpdate(lastReceived, f, f,
                java.util.concurrent.TimeUnit.MILLISECONDS.toMicros(System.currentTimeMillis()), replyRequested);
        synchronized (writeLock) {
            if (closing) {
                return; // CopyDone is sent or on its way: no CopyData may follow it
            }
            try {
                wire.sendChar('d');
                wire.sendInteger4(4 + m.length);
                wire.send(m);
                wire.flush();
            } catch (java.io.IOException e) {
                throw new PSQLException("Database connection failed when writing to copy", PSQLState.CONNECTION_FAILURE, e);
            }
        }
        lastStatusNanos = System.nanoTime();
    }

    /**
     * Ends the stream as pgjdbc did: CopyDone, then the server's CopyDone, CommandComplete and ReadyForQuery,
     * which the reader thread reads to the end — waiting at most the connection's socket timeout, which a
     * stalled path never answers — then closes the connection.
     */
    @Override
    public void close() {
        closing = true;
        queue.close();
        try {
            synchronized (writeLock) {
                wire.sendChar('c');
                wire.sendInteger4(4);
                wire.flush();
            }
            int timeout = connection.getNetworkTimeout();
            reader.join(timeout > 0 ? timeout + 1000L : 30_000L);
        } catch (java.io.IOException | SQLException ignored) {
            // closing: the connection is going away anyway
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            try {
                connection.close(); // also ends a reader still blocked on the socket
            } catch (SQLException ignored) {
                // as above
            }
        }
    }

    private static PGStream pgStreamOf(PgConnection c) {
        try {
            return (PGStream) PG_STREAM.get(c.getQueryExecutor());
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw ConnectorException.system("Cannot reach the replication connection's stream in pgjdbc (" + e
                    + "): the connector was built with another pgjdbc version than the one it was written for; "
                    + "build it with the version its pom.xml names.", e);
        }
    }

    /**
     * pgjdbc keeps the connection's stream in a protected field; its replication API only offers reads that poll.
     * The field is pinned by the pgjdbc version in pom.xml, and the replication ITs fail at once if it moves.
     */
    private static java.lang.reflect.Field pgStreamField() {
        try {
            java.lang.reflect.Field f = QueryExecutorBase.class.getDeclaredField("pgStream");
            f.setAccessible(true);
            return f;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }

    private static ConnectorException translateStartFailure(SQLException e, String slot, String publication, long lsn) {
        String msg = e.getMessage() == null ? "" : e.getMessage();
        switch (SqlFailures.causeOf(e)) {
            case OBJECT_IN_USE:
                return SqlFailures.explained("Replication slot \"" + slot + "\" is in use by another process (" + msg
                        + "). Another capture may be reading it: stop it, or give this capture its own slot_name.", e);
            case MISSING_OBJECT:
                return SqlFailures.explained(msg.contains("publication")
                        ? "Publication \"" + publication + "\" does not exist (" + msg + "). Create it: CREATE PUBLICATION \""
                                + publication + "\" FOR ALL TABLES;"
                        : "Replication slot \"" + slot + "\" does not exist (" + msg + ").", e);
            default:
                break;
        }
        if (msg.contains("can no longer get changes") || msg.contains("invalidated") || msg.contains("has been removed")) {
            // Reported under different SQLSTATEs across versions (55000, 58P01...); the WAL is gone for good
            // whichever it is, so only the user can act.
            return ConnectorException.config("Replication slot \"" + slot + "\" can no longer stream from "
                    + Lsn.format(lsn) + " (" + msg + "): the WAL it needs is gone. Drop the slot and start over "
                    + "without state (a full backfill), and raise max_slot_wal_keep_size or run the capture more often.", e);
        }
        return SqlFailures.failure("Starting replication from slot \"" + slot + "\"", e);
    }

    /**
     * pgoutput splits publication_names as a list of SQL identifiers, so the name is double-quoted (keeping
     * its case and any comma); pgjdbc places the option inside single quotes without escaping them.
     */
    private static String quoteIdent(String name) {
        return ('"' + name.replace("\"", "\"\"") + '"').replace("'", "''");
    }
}
