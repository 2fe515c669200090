package io.sourcepostgres.backfill;

import io.sourcepostgres.airbyte.ConnectorException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * The cut between the backfill and the change events of a table without a key: the transactions a snapshot,
 * taken before any of the table's changes was handled, saw as committed. A change by one of them is already
 * in the table the backfill reads and is not emitted; a change by any other transaction is emitted, and the
 * row versions it created are left out of the backfill (each version has one creator, its {@code xmin}). So
 * every row version is emitted once: by the backfill, or by the change that created it.
 *
 * <p>A row's {@code xmin} may be a subtransaction's id (a SAVEPOINT, a PL/pgSQL EXCEPTION block), which the
 * snapshot's text form does not list: a subtransaction id below the snapshot's xmax of a transaction still
 * running would look committed. So the ids of the running transactions' subtransactions are taken from
 * {@code pg_locks} (every transaction and subtransaction holds a lock on its own id until the top-level
 * transaction ends) and kept as {@code invisible}.
 *
 * @param snapshot the snapshot, full 64-bit transaction ids
 * @param invisible subtransaction ids of the transactions the snapshot saw running, full 64-bit ids
 */
public record KeylessStart(ChunkSnapshot snapshot, Set<Long> invisible) {
    private static final int ATTEMPTS = 50;

    public KeylessStart {
        invisible = Set.copyOf(invisible);
    }

    /** Whether the change events of top-level transaction {@code xid32} (as pgoutput's BEGIN has it) are in the backfill. */
    public boolean includesTransaction(long xid32) {
        return snapshot.includes32(xid32);
    }

    /**
     * Whether a row version whose {@code xmin} is {@code xmin32} was created by a transaction this cut includes.
     * The bootstrap and frozen ids (1, 2) predate everything. A raw {@code xmin} kept on a frozen row more than
     * 2^31 transactions old cannot be told from a recent one; such a row would be left out (a table would have
     * had to live through about two billion transactions since that row was written).
     */
    public boolean predates(long xmin32) {
        if (xmin32 < 3) {
            return true;
        }
        int distance = (int) (xmin32 - snapshot.xmax());
        if (distance >= 0) {
            return false;
        }
        long full = snapshot.xmax() + distance;
        return snapshot.includes(full) && !invisible.contains(full);
    }

    /** The text form kept in the state: the snapshot, then the invisible ids. */
    public String snapshotText() {
        return snapshot.xmin() + ":" + snapshot.xmax() + ":"
                + snapshot.inProgress().stream().map(String::valueOf).collect(Collectors.joining(","));
    }

    public String invisibleText() {
        return new TreeSet<>(invisible).stream().map(String::valueOf).collect(Collectors.joining(","));
    }

    public static KeylessStart parse(String snapshot, String invisible) {
        Set<Long> ids = new HashSet<>();
        if (!invisible.isEmpty()) {
            for (String x : invisible.split(",")) {
                ids.add(Long.parseLong(x));
            }
        }
        return new KeylessStart(ChunkSnapshot.parse(snapshot), ids);
    }

    /**
     * Takes the cut now. Retried when a transaction the snapshot saw running ended before its subtransactions
     * could be read from {@code pg_locks} (then they are gone, and so is the way to tell them).
     */
    public static KeylessStart take(Connection connection, int serverMajorVersion) {
        String snapshotSql = "SELECT " + (serverMajorVersion >= 13 ? "pg_catalog.pg_current_snapshot()"
                : "pg_catalog.txid_current_snapshot()") + "::text";
        String locksSql = "SELECT virtualtransaction, transactionid::text::bigint FROM pg_catalog.pg_locks"
                + " WHERE locktype = 'transactionid' AND mode = 'ExclusiveLock' AND granted";
        try (Statement st = connection.createStatement()) {
            for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
                ChunkSnapshot snapshot;
                try (ResultSet rs = st.executeQuery(snapshotSql)) {
                    rs.next();
                    snapshot = ChunkSnapshot.parse(rs.getString(1));
                }
                Map<String, List<Long>> byHolder = new HashMap<>();
                try (ResultSet rs = st.executeQuery(locksSql)) {
                    while (rs.next()) {
                        byHolder.computeIfAbsent(rs.getString(1), k -> new ArrayList<>()).add(rs.getLong(2));
                    }
                }
                Set<Long> running32 = new HashSet<>();
                for (long full : snapshot.inProgress()) {
                    running32.add(full & 0xFFFFFFFFL);
                }
                Set<Long> found = new HashSet<>();
                Set<Long> invisible = new HashSet<>();
                for (List<Long> xids : byHolder.values()) {
                    List<Long> top = xids.stream().filter(running32::contains).toList();
                    if (top.isEmpty()) {
                        continue;
                    }
                    found.addAll(top);
                    for (long x : xids) {
                        if (!running32.contains(x)) {
                            invisible.add(snapshot.xmax() + (int) (x - snapshot.xmax()));
                        }
                    }
                }
                if (found.containsAll(running32)) {
                    return new KeylessStart(snapshot, invisible);
                }
            }
        } catch (SQLException e) {
            throw ChunkReader.failure("Taking the start snapshot of a keyless backfill", e);
        }
        throw ConnectorException.transientError("Could not take a consistent start snapshot for a table without a "
                + "primary key in " + ATTEMPTS + " attempts (transactions kept ending between two queries); retry.", null);
    }
}
