package io.sourcepostgres.backfill;

import io.sourcepostgres.airbyte.StreamId;
import java.sql.SQLException;

/**
 * What the chunk merge asks the server on the capture thread: the fences it writes and what a fence waits for.
 * The server's answers come through {@link JdbcMergeFences}; a unit test fakes them, deciding where each fence
 * lies and so when replication "delivers" it.
 */
interface MergeFences {

    /** Writes a fence replication is certain to pass and returns its position ({@link WalFence#emit}). */
    long writeFence() throws SQLException;

    /**
     * Whether the transactions that were writing a chunk's table when its snapshot was taken have all ended,
     * so that its high fence may be written ({@link TableWriters}). Asked repeatedly; may warn on {@code stream}'s
     * behalf when they take long.
     */
    boolean writersEnded(TableWriters writers, StreamId stream);

    /** A new start cut for a keyless stream's backfill ({@link KeylessStart#take}). */
    KeylessStart keylessCut(int serverMajorVersion);
}
