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
import java.util.List;

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
