package io.sourcepostgres.capture;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcepostgres.airbyte.ConnectorException;
import io.sourcepostgres.backfill.Chunk;
import io.sourcepostgres.backfill.ChunkReader;
import io.sourcepostgres.pgoutput.Lsn;
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
final class ChunkReadAhead implements AutoCloseable {
    /** A chunk read with what its merge needs. {@code writers} is null for streams that are not replicated. */
    record Read(Chunk chunk, long lowFence, long readAtMillis, TableWriters writers) {}

    private final Connection connection;
    private final ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "backfill-reader");
        t.setDaemon(true);
        return t;
    });

    ChunkReadAhead(Connection connection) {
        this.connection = connection;
    }

    /** Starts reading the chunk of {@code stream} after {@code resumeAfter}; the reader is used on the reader thread only. */
    Future<Read> submit(BackfillStream stream, ChunkReader reader, JsonNode resumeAfter, int maxRows, long maxBytes) {
        return thread.submit(() -> {
            long low = insertPosition();
            long readAt = System.currentTimeMillis();
            Chunk chunk = reader.read(connection, resumeAfter, maxRows, maxBytes);
            TableWriters writers = stream.replicated
                    ? TableWriters.runningSince(connection, stream.plan.table(), chunk.snapshot()) : null;
            return new Read(chunk, low, readAt, writers);
        });
    }

    /**
     * Starts reading the next chunks of several streams in one snapshot ({@link ChunkReader#readTogether}): one
     * low fence, one transaction and one look at the writers for all of them. Yields a read per chunk, in
     * order, each with the same fence, read time and writers; stops after a chunk that does not finish its table.
     */
    Future<java.util.List<Read>> submitTogether(java.util.List<BackfillStream> streams, java.util.List<ChunkReader> readers,
            java.util.List<JsonNode> resumes, int maxRows, long maxBytes) {
        return thread.submit(() -> {
            long low = insertPosition();
            long readAt = System.currentTimeMillis();
            java.util.List<Chunk> chunks = ChunkReader.readTogether(connection, readers, resumes, maxRows, maxBytes);
            TableWriters writers = streams.get(0).replicated ? TableWriters.runningSince(connection,
                    streams.subList(0, chunks.size()).stream().map(s -> s.plan.table()).toList(), chunks.get(0).snapshot())
                    : null;
            java.util.List<Read> reads = new java.util.ArrayList<>();
            for (Chunk chunk : chunks) {
                reads.add(new Read(chunk, low, readAt, writers));
            }
            return reads;
        });
    }

    /** The result of a read, waiting for it if needed; its failure as the connector reports it. */
    static <T> T take(Future<T> read) {
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
                ResultSet rs = st.executeQuery("SELECT pg_catalog.pg_current_wal_insert_lsn()::text")) {
            rs.next();
            return Lsn.parse(rs.getString(1));
        } catch (SQLException e) {
            throw ConnectorException.transientError("Reading the WAL position failed: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        thread.shutdownNow();
    }
}
