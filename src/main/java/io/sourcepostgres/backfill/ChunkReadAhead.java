package io.sourcepostgres.backfill;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcepostgres.airbyte.ConnectorException;
import java.sql.Connection;
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
 * chunk's snapshot, and afterwards the table's writers that the snapshot saw running ({@link JdbcChunkReads}).
 * Everything else about the merge stays on the capture thread ({@link BackfillCoordinator}).
 */
public final class ChunkReadAhead implements AutoCloseable {
    /** A chunk read with what its merge needs. {@code writers} is null for streams that are not replicated. */
    record Read(Chunk chunk, long lowFence, long readAtMillis, TableWriters writers) {}

    private final ChunkReads reads;
    private final ExecutorService thread;

    public ChunkReadAhead(Connection connection) {
        this(new JdbcChunkReads(connection), Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "backfill-reader");
            t.setDaemon(true);
            return t;
        }));
    }

    /**
     * Reads with {@code reads} on {@code executor}, which must run one read at a time: a unit test passes one
     * that runs a read when the test steps it, or when the capture thread waits for it.
     */
    ChunkReadAhead(ChunkReads reads, ExecutorService executor) {
        this.reads = reads;
        this.thread = executor;
    }

    /** A new reader of {@code stream}'s chunks, to pass to {@link #submit}. */
    ChunkSource sourceFor(BackfillStream stream) {
        return reads.sourceFor(stream);
    }

    /** Starts reading the chunk of {@code stream} after {@code resumeAfter}; the reader is used on the reader thread only. */
    Future<java.util.List<Read>> submit(BackfillStream stream, ChunkSource reader, JsonNode resumeAfter, int maxRows,
            long maxBytes) {
        return thread.submit(() -> java.util.List.of(reads.read(stream, reader, resumeAfter, maxRows, maxBytes)));
    }

    /**
     * Starts reading the next chunks of several small tables in one snapshot ({@link ChunkReads#readShared}): one
     * low fence, one transaction and one look at the writers for all of them.
     */
    Future<java.util.List<Read>> submitShared(java.util.List<BackfillStream> streams, java.util.List<ChunkSource> sources,
            java.util.List<JsonNode> resumes, int maxRows, long maxBytes) {
        return thread.submit(() -> reads.readShared(streams, sources, resumes, maxRows, maxBytes));
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

    @Override
    public void close() {
        thread.shutdownNow();
    }
}
