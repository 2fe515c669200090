package io.sourcepostgres.backfill;

import com.fasterxml.jackson.databind.JsonNode;
import java.sql.Connection;

/**
 * Reads a table's next backfill chunk: by scan key ({@link ChunkReader}) or, for a table without one, by
 * physical location ({@link CtidChunkReader}). One source per stream, used on one thread at a time.
 */
public interface ChunkSource {
    BackfillPlan plan();

    /**
     * The chunk after {@code resumeAfter} (a previous chunk's {@link Chunk#resumeAfter()}, as the state kept it),
     * read in a repeatable-read transaction of its own on {@code connection} (autocommit, canonical settings).
     */
    Chunk read(Connection connection, JsonNode resumeAfter, int maxRows, long maxBytes);
}
