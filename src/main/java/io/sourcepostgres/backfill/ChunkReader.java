package io.sourcepostgres.backfill;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcepostgres.airbyte.ConnectorException;
import io.sourcepostgres.pgoutput.TupleData;
import io.sourcepostgres.postgres.SqlFailures;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyOut;

/**
 * Reads a table's rows in chunks ordered by its scan key, each chunk in one repeatable-read transaction of
 * its own, through {@code COPY (SELECT ...) TO STDOUT} in text format: every value arrives as its type's
 * output function wrote it under the connection's session settings, exactly the bytes pgoutput sends, and
 * the rows stream without the driver formatting anything.
 *
 * <p>One reader per stream: it remembers how wide that table's rows were, so that when a chunk had to be cut
 * at its byte bound, the next one asks for about as many rows as fit instead of cutting again. Not
 * thread-safe.
 */
public final class ChunkReader implements ChunkSource {
    /** Below this much data still in flight, reading the rest of a cut COPY is cheaper than cancelling it. */
    private static final long DRAIN_RATHER_THAN_CANCEL = 1 << 20;

    /** A chunk's read finds the table's shape changed this many times in a row before it gives up. */
    private static final int MAX_REPLANS = 10;

    /** Plans the backfill of a table anew, from the catalog as it is now (after its columns changed). */
    @FunctionalInterface
    public interface Replanner {
        BackfillPlan replan(Connection connection) throws SQLException;
    }

    private final Replanner replanner;
    private BackfillPlan plan;
    private TableShape shape;
    private ChunkQuery query;
    private long averageRowBytes = -1;
    private Boolean tableLockAllowed;

    /** A reader that fails when the table's columns change under it (no way to plan anew). */
    public ChunkReader(BackfillPlan plan) {
        this(plan, null);
    }

    /**
     * A reader that, when a chunk finds the table's columns changed since {@code plan} was made, plans anew
     * with {@code replanner} and reads that chunk (and the following ones) with the new columns and encoders.
     */
    public ChunkReader(BackfillPlan plan, Replanner replanner) {
        this.replanner = replanner;
        usePlan(plan);
    }

    private void usePlan(BackfillPlan newPlan) {
        this.plan = newPlan;
        this.shape = TableShape.of(newPlan.table());
        this.query = new ChunkQuery(newPlan);
    }

    @Override
    public BackfillPlan plan() {
        return plan;
    }

    /**
     * Reads the next chunk: the rows strictly after {@code resumeAfter} in scan-key order (from the first row
     * when it is null or JSON null), at most {@code maxRows} of them, and no more rows after the one whose
     * bytes reach {@code maxBytes} (always at least one row when there is one).
     *
     * <p>The connection must be in autocommit mode with the canonical session settings
     * ({@code PgConnections.openQuery()}); the chunk is read in a transaction of its own that starts inside
     * this call, so a WAL position taken before the call precedes the chunk's snapshot.
     *
     * @param resumeAfter a previous chunk's {@link Chunk#resumeAfter()}, as the state kept it
     * @throws ConnectorException config error when {@code resumeAfter} does not fit the scan key (a state from
     *     another key), transient error when the connection fails or the statement times out
     */
    @Override
    public Chunk read(Connection connection, JsonNode resumeAfter, int maxRows, long maxBytes) {
        if (maxRows < 1) {
            throw new IllegalArgumentException("maxRows must be at least 1");
        }
        // About 90% of the byte bound's worth of rows as wide as the last chunk's, so that cuts stay rare.
        int limit = averageRowBytes <= 0 ? maxRows
                : (int) Math.max(1, Math.min(maxRows, (maxBytes - maxBytes / 10) / averageRowBytes));
        try {
            if (!connection.getAutoCommit()) {
                throw new IllegalStateException("ChunkReader.read needs a connection in autocommit mode: each chunk is "
                        + "read in a transaction of its own");
            }
            boolean lock = mayLock(connection); // outside the transaction: a query would take its snapshot
            ChunkSnapshot snapshot;
            for (int replans = 0; ; replans++) {
                // Locked before the snapshot is taken: no ALTER can commit between the check below and the
                // rows, nor (as a table rewrite does) after the snapshot, which would hide every row from it.
                boolean fits;
                try {
                    TableShape.InSnapshot now = TableShape.beginAndRead(connection, plan.table(), lock,
                            plan.serverMajorVersion());
                    fits = now.shape().equals(shape);
                    snapshot = now.snapshot();
                } catch (SQLException | RuntimeException e) {
                    rollback(connection, e);
                    throw e;
                }
                if (fits) {
                    break;
                }
                execute(connection, "ROLLBACK");
                if (replanner == null || replans == MAX_REPLANS) {
                    throw ConnectorException.transientError("The columns of table " + plan.table().id() + " changed "
                            + "while it was being backfilled, " + (replanner == null ? "and this reader cannot plan anew"
                            : "again and again") + ". Retry once the table's definition stays put.", null);
                }
                usePlan(replanner.replan(connection));
                averageRowBytes = -1;
            }
            List<String> resume = ResumeValues.of(plan, resumeAfter);
            Chunk chunk;
            try {
                chunk = readInTransaction(connection, resume, limit, maxBytes, snapshot);
            } catch (SQLException | RuntimeException e) {
                try {
                    execute(connection, "ROLLBACK");
                } catch (SQLException suppressed) {
                    e.addSuppressed(suppressed);
                }
                throw e;
            }
            // Read-only: rolling back is committing, and after a cancelled COPY the only way out.
            execute(connection, "ROLLBACK");
            if (chunk.rowsRead() > 0) {
                averageRowBytes = Math.max(1, chunk.bytes() / chunk.rowsRead());
            }
            return chunk;
        } catch (SQLException e) {
            throw failure("Reading a backfill chunk of table " + plan.table().id(), e);
        }
    }

    /** The table's shape this reader's plan was made for. */
    TableShape shape() {
        return shape;
    }

    /**
     * Reads the next chunk inside a transaction that {@link SharedChunkRead} began (and locked the table in,
     * and found its shape unchanged in): at most {@code maxRows} rows after {@code resumeAfter}, stopping after
     * the row whose bytes reach {@code maxBytes}. The caller ends the transaction; after a cut COPY it may be
     * aborted.
     */
    Chunk readShared(Connection connection, JsonNode resumeAfter, int maxRows, long maxBytes, ChunkSnapshot snapshot)
            throws SQLException {
        int limit = averageRowBytes <= 0 ? maxRows
                : (int) Math.max(1, Math.min(maxRows, (maxBytes - maxBytes / 10) / averageRowBytes));
        Chunk chunk = readInTransaction(connection, ResumeValues.of(plan, resumeAfter), limit, maxBytes, snapshot);
        if (chunk.rowsRead() > 0) {
            averageRowBytes = Math.max(1, chunk.bytes() / chunk.rowsRead());
        }
        return chunk;
    }

    /** @param known the transaction's snapshot when an earlier statement took it, else null */
    private Chunk readInTransaction(Connection connection, List<String> resume, int limit, long maxBytes,
            ChunkSnapshot known) throws SQLException {
        // The snapshot is the transaction's: ask for it (and set the resume values) only when needed.
        ChunkSnapshot snapshot = known != null && resume == null ? known : beginChunk(connection, resume);
        int columns = plan.columns().size();
        List<TupleData> rows = new ArrayList<>(Math.min(limit, 10_000));
        long bytes = 0;
        boolean cut = false;
        CopyOut copy = connection.unwrap(PGConnection.class).getCopyAPI().copyOut(query.copy(resume, limit));
        byte[] line;
        while ((line = copy.readFromCopy()) != null) {
            rows.add(CopyTextRow.parse(line, line.length, columns));
            bytes += line.length;
            if (bytes >= maxBytes && copy.isActive()) {
                cut = rows.size() < limit;
                if (cut) {
                    stop(connection, copy, (long) (limit - rows.size()) * (bytes / rows.size()));
                }
                break;
            }
        }
        if (!cut && copy.isActive() && copy.readFromCopy() != null) {
            throw new IllegalStateException("COPY sent more rows than its LIMIT");
        }
        return new Chunk(plan, rows, bytes, !cut && rows.size() < limit, cut, snapshot);
    }

    /**
     * The first statement of the chunk's transaction: takes its snapshot, reports it, and hands the resume
     * values to the COPY as transaction-local settings (COPY cannot take bind parameters).
     */
    private ChunkSnapshot beginChunk(Connection connection, List<String> resume) throws SQLException {
        StringBuilder sql = new StringBuilder("SELECT ")
                .append(plan.serverMajorVersion() >= 13 ? "pg_catalog.pg_current_snapshot()" : "pg_catalog.txid_current_snapshot()")
                .append("::text");
        List<String> bound = new ArrayList<>();
        if (resume != null) {
            for (int i = 0; i < resume.size(); i++) {
                if (resume.get(i) != null) {
                    sql.append(", pg_catalog.set_config(?, ?, true)");
                    bound.add(ChunkQuery.setting(i));
                    bound.add(resume.get(i));
                }
            }
        }
        try (PreparedStatement ps = connection.prepareStatement(sql.toString())) {
            for (int i = 0; i < bound.size(); i++) {
                ps.setString(i + 1, bound.get(i));
            }
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return ChunkSnapshot.parse(rs.getString(1));
            }
        }
    }

    /**
     * Ends a COPY whose remaining rows the chunk does not want. A little is read and dropped; a lot is
     * cancelled, which aborts the transaction (the caller rolls it back). The cancel request returns only
     * once the server has signalled the backend, and a cancel that arrives after the COPY ended finds the
     * backend idle, where PostgreSQL ignores it, so it cannot hit a later statement.
     */
    static void stop(Connection connection, CopyOut copy, long bytesLeft) throws SQLException {
        if (bytesLeft > DRAIN_RATHER_THAN_CANCEL) {
            connection.unwrap(PGConnection.class).cancelQuery();
        }
        try {
            while (copy.readFromCopy() != null) {
                // dropped: past the byte bound
            }
        } catch (SQLException e) {
            if (!"57014".equals(e.getSQLState())) {
                throw e;
            }
        }
    }

    /**
     * LOCK TABLE needs SELECT on the whole table; a user granted only some columns (Airbyte's column selection)
     * reads without it: then a column change is still found by the shape check, but a table rewrite that
     * commits during the chunk's read may hide the rows from it (the README says so). Asked once per reader,
     * before the chunk's transaction, since a failed LOCK would abort it.
     */
    private boolean mayLock(Connection connection) throws SQLException {
        if (tableLockAllowed == null && plan.table().selectPrivilege()) {
            // The catalog read at the start of the run says so; a grant revoked since fails the LOCK as it would the
            // read, and the error names the privilege.
            tableLockAllowed = true;
        }
        if (tableLockAllowed == null) {
            try (java.sql.PreparedStatement ps = connection.prepareStatement(
                    "SELECT pg_catalog.has_table_privilege(?::oid, 'SELECT')")) {
                ps.setLong(1, plan.table().oid());
                try (java.sql.ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    tableLockAllowed = rs.getBoolean(1);
                }
            }
        }
        return tableLockAllowed;
    }

    private static void rollback(Connection connection, Exception failure) {
        try {
            execute(connection, "ROLLBACK");
        } catch (SQLException suppressed) {
            failure.addSuppressed(suppressed);
        }
    }

    static void execute(Connection connection, String sql) throws SQLException {
        try (Statement st = connection.createStatement()) {
            st.execute(sql);
        }
    }

    /** An SQL failure as the connector reports it: who must act, and how. */
    static ConnectorException failure(String what, SQLException e) {
        return SqlFailures.failure(what, e, switch (SqlFailures.causeOf(e)) {
            case TIMED_OUT -> "The statement timed out or was cancelled; retry, raise statement_timeout_seconds, "
                    + "or lower backfill_chunk_size.";
            case NOT_PERMITTED -> "Grant the connector's user SELECT on the table and USAGE on its schema.";
            default -> null;
        });
    }
}
