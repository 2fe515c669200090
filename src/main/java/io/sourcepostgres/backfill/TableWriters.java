package io.sourcepostgres.backfill;

import io.sourcepostgres.airbyte.LogSink;
import io.sourcepostgres.airbyte.LogLevel;
import io.sourcepostgres.airbyte.StreamId;
import io.sourcepostgres.discovery.DiscoveredTable;
import io.sourcepostgres.discovery.Partition;
import io.sourcepostgres.postgres.SqlFailures;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * The transactions that were already writing a table when a chunk's snapshot was taken, and whether they
 * have ended. Read from {@code pg_locks}, which every role may read: a transaction writing a table holds
 * RowExclusiveLock on it, and an ExclusiveLock on its own transaction id. This catches what the rows
 * themselves cannot tell: an update that went ahead under another transaction's FOR KEY SHARE lock leaves
 * a MultiXact in the row's xmax, not the updater's id.
 */
public final class TableWriters {
    private static final long POLL_NANOS = 20_000_000L;
    private static final long WARN_AFTER_NANOS = 30_000_000_000L;

    private final List<Long> xids;
    /** On a standby: {@link StandbyHorizon}, which the fence waits for instead of {@link #xids}; -1 on a primary. */
    private final long standbyHorizon;
    private final long since = System.nanoTime();
    private long lastPoll;
    private long lastWarning;
    private boolean done;
    /** The tables whose writers these are, as the warning names them; null: the stream the caller names. */
    private final String tables;

    TableWriters(List<Long> xids, long standbyHorizon) {
        this(xids, standbyHorizon, null);
    }

    private TableWriters(List<Long> xids, long standbyHorizon, String tables) {
        this.xids = xids;
        this.standbyHorizon = standbyHorizon;
        this.done = xids.isEmpty() && standbyHorizon < 0;
        this.tables = tables;
    }

    /** The writers of {@code table} (and its partitions) that {@code snapshot} saw as running. */
    static TableWriters runningSince(Connection c, DiscoveredTable table, ChunkSnapshot snapshot) {
        return runningSince(c, List.of(table), snapshot);
    }

    /** The writers of any of {@code tables} (and their partitions) that {@code snapshot} saw as running. */
    static TableWriters runningSince(Connection c, List<DiscoveredTable> tables, ChunkSnapshot snapshot) {
        List<Long> oids = new ArrayList<>();
        for (DiscoveredTable table : tables) {
            oids.add(table.oid());
            for (Partition p : table.partitions()) {
                oids.add(p.oid());
            }
        }
        DiscoveredTable table = tables.get(0);
        // Several small tables read in one snapshot share these writers, and the warning names them all.
        String named = tables.size() > 1 ? table.id() + " and " + (tables.size() - 1) + " more tables read in the same "
                + "snapshot" : null;
        List<Long> writers = new ArrayList<>();
        // Locks are matched by virtual transaction, not pid: a prepared transaction (PREPARE TRANSACTION) holds
        // its locks with no pid at all, and it is a writer like any other until COMMIT PREPARED.
        // One round trip: whether the server is a standby (then its horizon stands in for the locks, which show
        // none of the primary's writers), and the writers that pg_locks shows.
        String sql = "SELECT " + StandbyHorizon.COLUMN + ", ARRAY(SELECT DISTINCT x.transactionid::text::bigint"
                + " FROM pg_catalog.pg_locks r"
                + " JOIN pg_catalog.pg_locks x ON x.virtualtransaction = r.virtualtransaction"
                + " AND x.locktype = 'transactionid' AND x.mode = 'ExclusiveLock' AND x.granted"
                + " WHERE r.locktype = 'relation' AND r.relation::bigint = ANY(?) AND r.mode = 'RowExclusiveLock'"
                + " AND r.granted AND r.pid IS DISTINCT FROM pg_catalog.pg_backend_pid())";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setLong(1, StandbyHorizon.parameter(snapshot));
            Array param = c.createArrayOf("int8", oids.toArray(Long[]::new));
            ps.setArray(2, param);
            try (ResultSet row = ps.executeQuery()) {
                row.next();
                long horizon = StandbyHorizon.from(snapshot, row, 1);
                if (horizon >= 0) {
                    return new TableWriters(List.of(), horizon, named);
                }
                for (Long running : (Long[]) row.getArray(2).getArray()) {
                    // The snapshot lists only running ids below its xmax (one past the latest *finished* id); a
                    // writer that got its id later but before the snapshot is running too, and may have changed
                    // a row the chunk holds in its old image. So an id at or past xmax is a writer as well (one
                    // that started after the snapshot only makes the wait longer, never wrong).
                    long xid32 = running;
                    long full = snapshot.xmax() + (int) (xid32 - (snapshot.xmax() & 0xFFFFFFFFL));
                    if ((full >= snapshot.xmax() || snapshot.inProgress().contains(full)) && !writers.contains(full)) {
                        writers.add(full);
                    }
                }
            }
        } catch (SQLException e) {
            throw SqlFailures.failure("Reading the writers of " + table.id()
                    + (tables.size() > 1 ? " and " + (tables.size() - 1) + " more tables" : "") + " from pg_locks", e);
        }
        return new TableWriters(List.copyOf(writers), -1, named);
    }

    /** Whether every writer has ended (committed or rolled back); polls the server at most every 20 ms. */
    boolean finished(Connection c, StreamId stream, LogSink out) {
        long now = System.nanoTime();
        if (done || now - lastPoll < POLL_NANOS) {
            return done;
        }
        lastPoll = now;
        if (standbyHorizon >= 0) {
            done = StandbyHorizon.passed(c, standbyHorizon);
        } else try (PreparedStatement ps = c.prepareStatement(
                "SELECT count(*) FROM unnest(?::bigint[]) x WHERE pg_catalog.txid_status(x) = 'in progress'")) {
            Array param = c.createArrayOf("int8", xids.toArray(Long[]::new));
            ps.setArray(1, param);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                done = rs.getLong(1) == 0;
            }
        } catch (SQLException e) {
            throw SqlFailures.failure("Checking transaction status", e);
        }
        if (!done && (lastWarning == 0 || now - lastWarning > WARN_AFTER_NANOS)) {
            // A prepared transaction waits for a person: say so at once. Others get 30 s to end by themselves.
            String prepared = standbyHorizon >= 0 ? "" : preparedAmong(c);
            if (!prepared.isEmpty() || now - since > WARN_AFTER_NANOS) {
                lastWarning = now;
                out.log(LogLevel.WARN, "Backfill of " + (tables != null ? tables : stream) + " has waited " + (now - since) / 1_000_000_000L
                        + " s for transactions " + (standbyHorizon >= 0 ? "below " + standbyHorizon : xids)
                        + " that were writing " + (tables != null ? "one of the tables when their chunks were"
                                : "the table when its chunk was") + " read"
                        + (prepared.isEmpty() ? " (see pg_stat_activity for long-running transactions)."
                                : ". Among them are prepared transactions, which wait for a COMMIT PREPARED or ROLLBACK "
                                        + "PREPARED: " + prepared + ". End them (see pg_prepared_xacts) to let the backfill go on.")
                        + " Changes keep streaming meanwhile.");
            } else {
                lastWarning = since; // checked again once the 30 s are up
            }
        }
        return done;
    }

    /** The prepared transactions among the writers, described for a person ("gid 'p1' prepared at …"). */
    private String preparedAmong(Connection c) {
        StringBuilder found = new StringBuilder();
        try (PreparedStatement ps = c.prepareStatement("SELECT gid, prepared::text, owner, database FROM pg_catalog.pg_prepared_xacts"
                + " WHERE transaction::text::bigint = ANY(?) ORDER BY prepared")) {
            ps.setArray(1, c.createArrayOf("int8", xids.stream().map(x -> x & 0xFFFFFFFFL).toArray(Long[]::new)));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    found.append(found.length() > 0 ? ", " : "").append("gid '").append(rs.getString(1))
                            .append("' prepared at ").append(rs.getString(2)).append(" by ").append(rs.getString(3))
                            .append(" in database ").append(rs.getString(4));
                }
            }
        } catch (SQLException e) {
            throw SqlFailures.failure("Reading pg_prepared_xacts", e);
        }
        return found.toString();
    }
}
