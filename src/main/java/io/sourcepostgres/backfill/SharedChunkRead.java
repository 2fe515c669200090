package io.sourcepostgres.backfill;

import com.fasterxml.jackson.databind.JsonNode;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads the next chunks of several small tables one after the other in one repeatable-read transaction, so in
 * one snapshot: with thousands of tables of a few rows, a transaction and a pair of fences per table cost more
 * round trips than the rows themselves. Every chunk is exactly what {@link ChunkReader#read} would have read in
 * that snapshot, so the merge of each one is unchanged; they only share the snapshot, the low fence taken
 * before it, the look at the writers and the high fence (see {@link BackfillCoordinator}).
 *
 * <p>The tables together take at most one chunk's bounds ({@code maxRows} rows, about {@code maxBytes} bytes):
 * each table's COPY is limited to the rows and bytes left. The read stops at the first table that it does not
 * finish (its estimate was wrong, or the bounds ran out): that table's chunk is the last, and it goes on on its
 * own from its last key. It also stops before a table whose columns changed since it was planned: that table
 * is then read on its own, which plans it anew.
 */
final class SharedChunkRead {
    private SharedChunkRead() {}

    /**
     * @param readers the tables' readers, in queue order; plain keyed tables that the connector's user may lock
     * @param resumes per reader, where its chunk starts (a previous chunk's {@link Chunk#resumeAfter()}, or null)
     * @return the chunks read, in order: at least one, and only the last may be unfinished
     */
    static List<Chunk> read(Connection connection, List<ChunkReader> readers, List<JsonNode> resumes, int maxRows,
            long maxBytes) {
        ChunkReader current = readers.get(0);
        try {
            if (!connection.getAutoCommit()) {
                throw new IllegalStateException("SharedChunkRead needs a connection in autocommit mode");
            }
            List<Chunk> chunks = new ArrayList<>();
            try {
                TableShape.AllInSnapshot now = TableShape.beginAndReadAll(connection,
                        readers.stream().map(r -> r.plan().table()).toList(), current.plan().serverMajorVersion());
                int rowsLeft = maxRows;
                long bytesLeft = maxBytes;
                for (int i = 0; i < readers.size() && rowsLeft > 0 && bytesLeft > 0; i++) {
                    current = readers.get(i);
                    if (!now.of(current.plan().table()).equals(current.shape())) {
                        if (i == 0) {
                            // Read on its own, which plans it anew (the caller's single read takes this path).
                            ChunkReader.execute(connection, "ROLLBACK");
                            return List.of(current.read(connection, resumes.get(i), maxRows, maxBytes));
                        }
                        break; // read on its own next time, which plans it anew
                    }
                    Chunk chunk = current.readShared(connection, resumes.get(i), rowsLeft, bytesLeft, now.snapshot());
                    chunks.add(chunk);
                    if (!chunk.done()) {
                        break; // goes on on its own from its last key; a cut COPY may have aborted the transaction
                    }
                    rowsLeft -= chunk.rowsRead();
                    bytesLeft -= chunk.bytes();
                }
            } catch (SQLException | RuntimeException e) {
                try {
                    ChunkReader.execute(connection, "ROLLBACK");
                } catch (SQLException suppressed) {
                    e.addSuppressed(suppressed);
                }
                throw e;
            }
            ChunkReader.execute(connection, "ROLLBACK"); // read-only: rolling back is committing
            return chunks;
        } catch (SQLException e) {
            throw ChunkReader.failure("Reading a backfill chunk of table " + current.plan().table().id()
                    + (readers.size() > 1 ? " (one of " + readers.size() + " tables read in one snapshot)" : ""), e);
        }
    }
}
