package io.sourcepostgres.backfill;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcepostgres.pgoutput.Lsn;
import io.sourcepostgres.postgres.SqlFailures;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * {@link ChunkReads} on the read-ahead thread's own connection: each read takes its low fence (the WAL insert
 * position) just before the chunk's snapshot, and afterwards the table's writers that the snapshot saw running.
 */
final class JdbcChunkReads implements ChunkReads {
    private final Connection connection;

    JdbcChunkReads(Connection connection) {
        this.connection = connection;
    }

    @Override
    public ChunkSource sourceFor(BackfillStream stream) {
        return stream.keyless ? new CtidChunkReader(stream.plan) : new ChunkReader(stream.plan, stream.replanner);
    }

    @Override
    public ChunkReadAhead.Read read(BackfillStream stream, ChunkSource source, JsonNode resumeAfter, int maxRows,
            long maxBytes) {
        long low = insertPosition();
        long readAt = System.currentTimeMillis();
        Chunk chunk = source.read(connection, resumeAfter, maxRows, maxBytes);
        // A keyless chunk is emitted as soon as it is read (see KeylessBackfills): it waits for no fence.
        TableWriters writers = stream.replicated && !stream.keyless
                ? TableWriters.runningSince(connection, chunk.plan().table(), chunk.snapshot()) : null;
        return new ChunkReadAhead.Read(chunk, low, readAt, writers);
    }

    @Override
    public java.util.List<ChunkReadAhead.Read> readShared(java.util.List<BackfillStream> streams,
            java.util.List<ChunkSource> sources, java.util.List<JsonNode> resumes, int maxRows, long maxBytes) {
        long low = insertPosition();
        long readAt = System.currentTimeMillis();
        java.util.List<Chunk> chunks = SharedChunkRead.read(connection,
                sources.stream().map(ChunkReader.class::cast).toList(), resumes, maxRows, maxBytes);
        // One look at the writers of every table read: the high fence they share waits for all of them.
        TableWriters writers = TableWriters.runningSince(connection,
                chunks.stream().map(c -> c.plan().table()).toList(), chunks.get(0).snapshot());
        java.util.List<ChunkReadAhead.Read> reads = new java.util.ArrayList<>();
        for (Chunk chunk : chunks) {
            reads.add(new ChunkReadAhead.Read(chunk, low, readAt, writers));
        }
        return reads;
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
}
