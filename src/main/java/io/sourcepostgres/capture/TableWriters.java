package io.sourcepostgres.capture;

import io.sourcepostgres.airbyte.AirbyteOutput;
import io.sourcepostgres.airbyte.ConnectorException;
import io.sourcepostgres.airbyte.LogLevel;
import io.sourcepostgres.airbyte.StreamId;
import io.sourcepostgres.backfill.ChunkSnapshot;
import io.sourcepostgres.discovery.DiscoveredTable;
import io.sourcepostgres.discovery.Partition;
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
final class TableWriters {
    private static final long POLL_NANOS = 20_000_000L;
    private static final long WARN_AFTER_NANOS = 30_000_000_000L;

    private final List<Long> xids;
    private final long since = System.nanoTime();
    private long lastPoll;
    private long lastWarning;
    private boolean done;

    private TableWriters(List<Long> xids) {
        this.xids = xids;
        this.done = xids.isEmpty();
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
        List<Long> writers = new ArrayList<>();
        String sql = "SELECT DISTINCT x.transactionid::text::bigint FROM pg_catalog.pg_locks r"
                + " JOIN pg_catalog.pg_locks x ON x.pid = r.pid AND x.locktype = 'transactionid' AND x.granted"
                + " WHERE r.locktype = 'relation' AND r.relation::bigint = ANY(?) AND r.mode = 'RowExclusiveLock'"
                + " AND r.granted AND r.pid <> pg_catalog.pg_backend_pid()";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            Array param = c.createArrayOf("int8", oids.toArray(Long[]::new));
            ps.setArray(1, param);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    long xid32 = rs.getLong(1);
                    for (long full : snapshot.inProgress()) {
                        if ((full & 0xFFFFFFFFL) == xid32 && !writers.contains(full)) {
                            writers.add(full);
                        }
                    }
                }
            }
        } catch (SQLException e) {
            throw ConnectorException.transientError("Reading the writers of " + table.id()
                    + (tables.size() > 1 ? " and " + (tables.size() - 1) + " more tables" : "") + " from pg_locks failed: "
                    + e.getMessage(), e);
        }
        return new TableWriters(List.copyOf(writers));
    }

    /** Whether every writer has ended (committed or rolled back); polls the server at most every 20 ms. */
    boolean finished(Connection c, StreamId stream, AirbyteOutput out) {
        long now = System.nanoTime();
        if (done || now - lastPoll < POLL_NANOS) {
            return done;
        }
        lastPoll = now;
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT count(*) FROM unnest(?::bigint[]) x WHERE pg_catalog.txid_status(x) = 'in progress'")) {
            Array param = c.createArrayOf("int8", xids.toArray(Long[]::new));
            ps.setArray(1, param);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                done = rs.getLong(1) == 0;
            }
        } catch (SQLException e) {
            throw ConnectorException.transientError("Checking transaction status failed: " + e.getMessage(), e);
        }
        if (!done && now - since > WARN_AFTER_NANOS && now - lastWarning > WARN_AFTER_NANOS) {
            lastWarning = now;
            out.log(LogLevel.WARN, "Backfill of " + stream + " has waited " + (now - since) / 1_000_000_000L
                    + " s for transactions " + xids + " that were writing the table when its chunk was read "
                    + "(see pg_stat_activity for long-running transactions). Changes keep streaming meanwhile.");
        }
        return done;
    }
}
