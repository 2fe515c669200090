package io.sourcepostgres.backfill;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcepostgres.airbyte.ConnectorException;
import io.sourcepostgres.pgoutput.Lsn;
import io.sourcepostgres.postgres.SqlFailures;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Reads backfill chunks on a thread and connection of their own, so that the server produces the next
 * chunk and the driver parses it while the capture thread encodes the previous one and keeps streaming
 * changes: on two cores, reading and encoding overlap instead of taking turns.
 *
 * <p>Each read takes its low fence (the WAL insert position) on the reader's connection just before the
 * chunk's snapshot, and afterwards the table's writers that the snapshot saw running. Everything else about
 * the merge stays on the capture thread ({@link BackfillCoordinator}).
 */
public final class ChunkReadAhead implements AutoCloseable {
    /** A chunk read with what its merge needs. {@code writers} is null for streams that are not replicated. */
    record Read(Chunk chunk, long lowFence, long readAtMillis, TableWriters writers) {}

    private final Connection connection;
    private final ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "backfill-reader");
        t.setDaemon(true);
        return t;
    });

    public ChunkReadAhead(Connection connection) {
        this.connection = connection;
    }

    /** Starts reading the chunk of {@code stream} after {@code resumeAfter}; the reader is used on the reader thread only. */
    Future<Read> submit(BackfillStream stream, ChunkSource reader, JsonNode resumeAfter, int maxRows, long maxBytes) {
        return thread.submit(() -> {
            long low = insertPosition();
            long readAt = System.currentTimeMillis();
            Chunk chunk = reader.read(connection, resumeAfter, maxRows, maxBytes);
            // A keyless chunk is emitted as soon as it is read (see KeylessBackfills): it waits for no fence.
            TableWriters writers = stream.replicated && !stream.keyless
                    ? TableWriters.runningSince(connection, chunk.plan().table(), chunk.snapshot()) : null;
            return new Read(chunk, low, readAt, writers);
        });
    }

    /** The result of a read, waiting for it if needed; its failure as the connector reports it. */
    static Read take(Future<Read> read) {
        try {
            return read.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw ConnectorException.transientError("Interrupted while waiting for a backfill chunk", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw ConnectorException.system("Reading a backfill chunk failed: " + cause, cause);
        }
    }

    private long insertPosition() {
        try (Statement st = connection.createStatement();
                // A standby has no insert position; what it shows a snapshot is what it has replayed.
                ResultSet rs = st.executeQuery("SELECT CASE WHEN pg_catalog.pg_is_in_recovery()"
                        + " THEN pg_catalog.pg_last_wal_replay_lsn() ELSE pg_catalog.pg_current_wal_insert_lsn() END::text")) {
            rs.next();
            return Lsn.parse(rs.getString(1));
        } catch (SQLException e) {
            throw SqlFailures.failure("Reading the WAL position", e);
        }
    }

    @Override
    public void close() {
        thread.shutdownNow();
    }
}
