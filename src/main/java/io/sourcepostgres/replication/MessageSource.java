package io.sourcepostgres.replication;

import java.nio.ByteBuffer;
import java.sql.SQLException;

/** Where pgoutput messages come from: the replication connection ({@link ReplicationStream}), or a test's bytes. */
public interface MessageSource {
    /** The next message's bytes, or null when none is waiting (keepalives are handled inside). */
    ByteBuffer poll() throws SQLException;

    /**
     * The WAL position of the last message received: for a data message, the LSN of the change it carries;
     * after a keepalive, the position up to which the server has sent everything.
     */
    long lastReceivedLsn();

    /** Sends a status update now; a caught-up server answers with a keepalive carrying its position. */
    void sendStatus() throws SQLException;
}
