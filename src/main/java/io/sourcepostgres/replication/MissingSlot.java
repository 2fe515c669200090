package io.sourcepostgres.replication;

import io.sourcepostgres.state.CaptureState;
import io.sourcepostgres.airbyte.ConfiguredCatalog;
import io.sourcepostgres.airbyte.ConnectorException;
import io.sourcepostgres.pgoutput.Lsn;
import io.sourcepostgres.postgres.ReplicationSlots;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;

/**
 * A state names a slot that this server does not have: the server failed over to a standby that kept no copy
 * of the slot, or the slot was dropped. The changes since the state are then beyond reach, and creating a new
 * slot would only leave one behind that retains WAL. The run is refused before anything is created, with what
 * the only way on, a new backfill, will cost.
 */
public final class MissingSlot {
    private MissingSlot() {}

    public static void refuseIfGone(Connection query, String slotName, Optional<CaptureState> state, ConfiguredCatalog catalog)
            throws SQLException {
        if (state.isEmpty() || ReplicationSlots.find(query, slotName).isPresent()) {
            return;
        }
        List<ConfiguredCatalog.ConfiguredStream> incremental = catalog.streams().stream()
                .filter(s -> s.syncMode() == ConfiguredCatalog.SyncMode.INCREMENTAL).toList();
        long[] cost = estimate(query, incremental);
        throw ConnectorException.config("Replication slot \"" + slotName + "\" does not exist on this server, but the "
                + "state was taken from it (at " + Lsn.format(state.get().position()) + "). Either the server failed "
                + "over to a standby that kept no copy of the slot (PostgreSQL 17+: turn slot_failover on and set up "
                + "slot synchronisation, see the README), or the slot was dropped. The changes since that state can "
                + "no longer be read. Reset the connection (run without state) to backfill the " + incremental.size()
                + " incremental stream" + (incremental.size() == 1 ? "" : "s") + " again: about " + cost[0]
                + " rows and " + pretty(cost[1]) + " of table data read anew and emitted again.");
    }

    /** Estimated rows and bytes of the streams' tables (partitions included), from the planner's statistics. */
    private static long[] estimate(Connection query, List<ConfiguredCatalog.ConfiguredStream> streams)
            throws SQLException {
        String sql = "SELECT coalesce(sum(greatest(p.reltuples, 0)), 0)::bigint, coalesce(sum(pg_catalog.pg_table_size(p.oid)), 0)::bigint"
                + " FROM unnest(?::text[], ?::text[]) AS s(nsp, rel)"
                + " JOIN pg_catalog.pg_namespace n ON n.nspname = s.nsp"
                + " JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = s.rel"
                // The tree of a partitioned root lists its partitions; that of a plain table is empty.
                + " LEFT JOIN LATERAL pg_catalog.pg_partition_tree(c.oid) t ON true"
                + " JOIN pg_catalog.pg_class p ON p.oid = coalesce(t.relid, c.oid) AND p.relkind = 'r'";
        try (PreparedStatement ps = query.prepareStatement(sql)) {
            ps.setArray(1, query.createArrayOf("text", streams.stream().map(s -> s.id().namespace() == null ? "public" : s.id().namespace()).toArray()));
            ps.setArray(2, query.createArrayOf("text", streams.stream().map(s -> s.id().name()).toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return new long[] {rs.getLong(1), rs.getLong(2)};
            }
        }
    }

    private static String pretty(long bytes) {
        String[] units = {"bytes", "kB", "MB", "GB", "TB"};
        double v = bytes;
        int u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return u == 0 ? bytes + " bytes" : String.format(java.util.Locale.ROOT, "%.1f %s", v, units[u]);
    }
}
