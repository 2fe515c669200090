package io.sourcepostgres.backfill;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.sourcepostgres.airbyte.Json;
import io.sourcepostgres.discovery.DiscoveredTable;
import io.sourcepostgres.discovery.Partition;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A cheap estimate of a table's size before its backfill, for TRACE ESTIMATE and progress percentages.
 *
 * <p>Rows come from the planner ({@code EXPLAIN} of a full scan), which already does what a hand-made
 * estimate would: {@code reltuples} scaled to the table's current number of pages, and for a table never
 * vacuumed or analyzed ({@code reltuples} -1, or 0 before PostgreSQL 14) a density guessed from its column
 * widths; a partitioned table sums its partitions. A table whose files hold no page at all has 0 rows, where
 * the planner would assume a few pages.
 *
 * @param rows estimated number of rows
 * @param bytes the table's size on disk ({@code pg_table_size}: heap, TOAST, free space and visibility maps;
 *     summed over the partitions of a partitioned table)
 */
public record RowEstimate(long rows, long bytes) {

    /** Up to this heap size a table is estimated from the catalog alone rather than planned. */
    private static final long SMALL_HEAP_BYTES = 16 * 8192;
    /** Tables sized per query: sizing opens (and briefly locks) each, so not all at once. */
    private static final int BATCH_TABLES = 200;

    /**
     * The estimates of many tables with few queries: their sizes and the planner's statistics in one query
     * per {@value #BATCH_TABLES}; only tables above {@value #SMALL_HEAP_BYTES} bytes of heap are planned one by
     * one as {@link #of} does. A small table's rows are {@code reltuples} scaled to its current size, or for a
     * table never analyzed, its heap divided by a row width guessed the way the planner guesses it (32 bytes
     * per column besides the row header): about what the plan would say, without a round trip per table.
     */
    public static Map<Long, RowEstimate> ofAll(Connection connection, List<DiscoveredTable> tables) {
        Map<Long, RowEstimate> estimates = new HashMap<>();
        try {
            for (int from = 0; from < tables.size(); from += BATCH_TABLES) {
                List<DiscoveredTable> batch = tables.subList(from, Math.min(tables.size(), from + BATCH_TABLES));
                List<Long> relations = new ArrayList<>();
                for (DiscoveredTable t : batch) {
                    relations.addAll(relationsOf(t));
                }
                Map<Long, double[]> sizes = new HashMap<>(); // relation -> {table bytes, heap bytes, reltuples, relpages}
                try (PreparedStatement ps = connection.prepareStatement("SELECT c.oid::int8, pg_catalog.pg_table_size(c.oid),"
                        + " pg_catalog.pg_relation_size(c.oid), c.reltuples, c.relpages FROM pg_catalog.pg_class c"
                        + " WHERE c.oid = ANY(?::oid[])")) {
                    ps.setArray(1, connection.createArrayOf("int8", relations.toArray(Long[]::new)));
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            sizes.put(rs.getLong(1), new double[] {rs.getLong(2), rs.getLong(3), rs.getDouble(4), rs.getLong(5)});
                        }
                    }
                }
                for (DiscoveredTable t : batch) {
                    long bytes = 0;
                    long heap = 0;
                    double rows = 0;
                    for (long r : relationsOf(t)) {
                        double[] size = sizes.getOrDefault(r, new double[4]);
                        bytes += (long) size[0];
                        heap += (long) size[1];
                        double pages = size[1] / 8192;
                        rows += size[2] >= 0 && size[3] > 0 ? size[2] / size[3] * pages
                                : pages * 8168 / (24 + 32.0 * Math.max(1, t.columns().size()));
                    }
                    estimates.put(t.oid(), heap > SMALL_HEAP_BYTES ? of(connection, t)
                            : new RowEstimate(heap == 0 ? 0 : Math.max(1, Math.round(rows)), bytes));
                }
            }
        } catch (SQLException e) {
            throw ChunkReader.failure("Estimating the size of " + tables.size() + " tables", e);
        }
        return estimates;
    }

    private static List<Long> relationsOf(DiscoveredTable table) {
        return table.isPartitioned()
                ? table.partitions().stream().filter(Partition::leaf).map(Partition::oid).toList()
                : List.of(table.oid());
    }

    public static RowEstimate of(Connection connection, DiscoveredTable table) {
        List<Long> relations = table.isPartitioned()
                ? table.partitions().stream().filter(Partition::leaf).map(Partition::oid).toList()
                : List.of(table.oid());
        try {
            long tableBytes;
            long heapBytes;
            try (PreparedStatement ps = connection.prepareStatement("SELECT coalesce(sum(pg_catalog.pg_table_size(r)), 0)::int8,"
                    + " coalesce(sum(pg_catalog.pg_relation_size(r)), 0)::int8 FROM unnest(?::oid[]) AS r")) {
                ps.setArray(1, connection.createArrayOf("int8", relations.toArray(Long[]::new)));
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    tableBytes = rs.getLong(1);
                    heapBytes = rs.getLong(2);
                }
            }
            if (heapBytes == 0) {
                return new RowEstimate(0, tableBytes);
            }
            String from = (table.isPartitioned() ? "" : "ONLY ") + table.id().quoted();
            try (Statement st = connection.createStatement();
                    ResultSet rs = st.executeQuery("EXPLAIN (FORMAT JSON) SELECT 1 FROM " + from)) {
                rs.next();
                JsonNode plan = Json.MAPPER.readTree(rs.getString(1)).path(0).path("Plan");
                return new RowEstimate(Math.max(0, plan.path("Plan Rows").asLong(0)), tableBytes);
            }
        } catch (SQLException e) {
            throw ChunkReader.failure("Estimating the size of table " + table.id(), e);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("EXPLAIN (FORMAT JSON) returned no JSON", e);
        }
    }
}
