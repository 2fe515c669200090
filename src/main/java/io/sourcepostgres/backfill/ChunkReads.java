package io.sourcepostgres.backfill;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Where the chunk merge's chunks come from: a stream's rows after a resume point, the snapshot they were read in,
 * and what the merge needs besides (the low fence taken before the snapshot, the table's writers the snapshot
 * saw running). The server's through {@link JdbcChunkReads}; a unit test fakes them, scripting each read's rows
 * and snapshot.
 */
interface ChunkReads {

    /** A reader of {@code stream}'s chunks; the merge keeps one per stream while its backfill runs (capture thread). */
    ChunkSource sourceFor(BackfillStream stream);

    /**
     * Reads the chunk of {@code stream} after {@code resumeAfter} with {@code source}: on the read-ahead thread,
     * one read at a time. {@link ChunkReadAhead.Read#writers()} is null for a stream that waits for no fence (not
     * replicated, or keyless).
     */
    ChunkReadAhead.Read read(BackfillStream stream, ChunkSource source, JsonNode resumeAfter, int maxRows, long maxBytes);

    /**
     * Reads the next chunks of several plain keyed streams one after the other in one snapshot, together within one
     * chunk's bounds ({@link SharedChunkRead}): on the read-ahead thread. Each read has the same low fence, read
     * time, snapshot and writers (those of all the tables read); only the last chunk may be unfinished.
     */
    java.util.List<ChunkReadAhead.Read> readShared(java.util.List<BackfillStream> streams, java.util.List<ChunkSource> sources,
            java.util.List<JsonNode> resumes, int maxRows, long maxBytes);
}
