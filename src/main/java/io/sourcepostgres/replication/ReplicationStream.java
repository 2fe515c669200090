package io.sourcepostgres.replication;

import io.sourcepostgres.airbyte.ConnectorException;
import io.sourcepostgres.failpoints.Failpoints;
import io.sourcepostgres.pgoutput.Lsn;
import io.sourcepostgres.postgres.SqlFailures;
import java.nio.ByteBuffer;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.postgresql.jdbc.PgConnection;
import org.postgresql.replication.LogSequenceNumber;
import org.postgresql.replication.PGReplicationStream;

/**
 * The pgoutput stream of one replication slot, through pgjdbc's replication API with automatic flushing
 * off: the server learns a flushed position only from {@link #acknowledge}, which the capture calls with
 * the position the orchestrator has durably stored — never with anything newer.
 */
public final class ReplicationStream implements MessageSource, AutoCloseable {
    private final PgConnection connection;
    private final PGReplicationStream stream;
    private final int protocolVersion;

    private ReplicationStream(PgConnection connection, PGReplicationStream stream, int protocolVersion) {
        this.connection = connection;
        this.stream = stream;
        this.protocolVersion = protocolVersion;
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
            PGReplicationStream s = builder.start();
            // Until the first acknowledgement the server must hear the start position, not 0/0.
            s.setFlushedLSN(LogSequenceNumber.valueOf(startLsn));
            s.setAppliedLSN(LogSequenceNumber.valueOf(startLsn));
            return new ReplicationStream(replicationConnection, s, proto);
        } catch (SQLException e) {
            throw translateStartFailure(e, slot, publication, startLsn);
        }
    }

    /** The process id of the server's walsender for this stream (pg_replication_slots.active_pid). */
    public int backendPid() {
        return connection.getBackendPID();
    }

    public int protocolVersion() {
        return protocolVersion;
    }

    /** The next message's bytes, or null when none is waiting (keepalives are handled inside). */
    @Override
    public ByteBuffer poll() throws SQLException {
        return stream.readPending();
    }

    /**
     * The WAL position of the last message received: for a data message, the LSN of the change it
     * carries; after a keepalive, the position up to which the server has sent everything.
     */
    @Override
    public long lastReceivedLsn() {
        return stream.getLastReceiveLSN().asLong();
    }

    /** Tells the server that everything before {@code lsn} is durably stored downstream. */
    public void acknowledge(long lsn) {
        Failpoints.hit(Failpoints.BEFORE_SLOT_CONFIRM);
        stream.setFlushedLSN(LogSequenceNumber.valueOf(lsn));
        stream.setAppliedLSN(LogSequenceNumber.valueOf(lsn));
    }

    /** Sends a standby status update now (it also solicits a keepalive once the server is caught up). */
    @Override
    public void sendStatus() throws SQLException {
        stream.forceUpdateStatus();
    }

    @Override
    public void close() {
        try {
            if (!stream.isClosed()) {
                stream.close();
            }
        } catch (SQLException ignored) {
            // closing: the connection is going away anyway
        } finally {
            try {
                connection.close();
            } catch (SQLException ignored) {
                // as above
            }
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
