package io.sourcepostgres.backfill;

import io.sourcepostgres.discovery.ColumnInfo;
import io.sourcepostgres.discovery.DiscoveredTable;
import io.sourcepostgres.postgres.PublishedSubset;
import java.sql.Connection;
import java.util.List;

/**
 * How one table is backfilled: which columns every chunk selects and the validated scan key that orders and
 * resumes the scan. Built once per stream by {@link #of}; immutable and free of any connection afterwards.
 *
 * @param table the table as discovery described it
 * @param columns the columns every chunk row holds, in this order: the table's columns in {@code attnum}
 *     order, generated ones only when asked for (key columns always)
 * @param key the scan key columns in key order
 * @param keyFromCatalog whether the key is the configured stream's {@code primary_key} rather than the
 *     table's primary key
 * @param orderingIndex the name of an index whose order is the scan's order, so that each chunk is an index
 *     range scan; null when there is none and every chunk must sort the rest of the table (worth a warning)
 * @param serverMajorVersion the server's major version (12, 13...)
 * @param rowFilter the publication's row filter for the table (PostgreSQL 15+), which every chunk applies so that
 *     the backfill reads exactly the rows replication publishes; null when there is none
 */
public record BackfillPlan(
        DiscoveredTable table,
        List<ColumnInfo> columns,
        List<ScanKeyColumn> key,
        boolean keyFromCatalog,
        String orderingIndex,
        int serverMajorVersion,
        String rowFilter) {

    public BackfillPlan {
        columns = List.copyOf(columns);
        key = List.copyOf(key);
    }

    public BackfillPlan(DiscoveredTable table, List<ColumnInfo> columns, List<ScanKeyColumn> key, boolean keyFromCatalog,
            String orderingIndex, int serverMajorVersion) {
        this(table, columns, key, keyFromCatalog, orderingIndex, serverMajorVersion, null);
    }

    /**
     * Validates the scan key of {@code table} and plans its chunks: the catalog's {@code primaryKey} override
     * when it is not empty, the table's primary key otherwise.
     *
     * @throws io.sourcepostgres.airbyte.ConnectorException a config error naming the table and the fix when
     *     there is no key, a key column does not exist, the key is not unique (no primary key or unique index
     *     on a subset of its columns that also covers NULLs), or a key column's type cannot be ordered
     */
    public static BackfillPlan of(Connection connection, DiscoveredTable table, List<String> primaryKey) {
        return of(connection, table, primaryKey, true);
    }

    /**
     * As {@link #of(Connection, DiscoveredTable, List)}; {@code withGenerated} false leaves generated columns
     * (other than key columns) out of the rows, as pgoutput does before PostgreSQL 18 and, on 18, unless the
     * publication has {@code publish_generated_columns = stored}: so a backfilled row and a replicated row of
     * the same table have the same columns.
     */
    public static BackfillPlan of(Connection connection, DiscoveredTable table, List<String> primaryKey,
            boolean withGenerated) {
        return ScanKeyResolver.resolve(connection, table, primaryKey, withGenerated, PublishedSubset.ALL, column -> true);
    }

    /**
     * As {@link #of(Connection, DiscoveredTable, List, boolean)}, reading only what the publication publishes of
     * the table: the columns of its column list and the rows its row filter passes, as replication sends them.
     *
     * @throws io.sourcepostgres.airbyte.ConnectorException a config error when a scan key column is not published
     */
    public static BackfillPlan of(Connection connection, DiscoveredTable table, List<String> primaryKey,
            boolean withGenerated, PublishedSubset published) {
        return ScanKeyResolver.resolve(connection, table, primaryKey, withGenerated, published, column -> true);
    }

    /**
     * As {@link #of(Connection, DiscoveredTable, List, boolean)}, reading only the columns {@code selected}
     * accepts (Airbyte's column selection) and the key columns: an unselected column is not even named in the
     * chunk query, so its values never leave the database.
     */
    public static BackfillPlan of(Connection connection, DiscoveredTable table, List<String> primaryKey,
            boolean withGenerated, java.util.function.Predicate<String> selected) {
        return ScanKeyResolver.resolve(connection, table, primaryKey, withGenerated, PublishedSubset.ALL, selected);
    }

    /** Both: what the publication publishes, and of that the selected columns and the key. */
    public static BackfillPlan of(Connection connection, DiscoveredTable table, List<String> primaryKey,
            boolean withGenerated, PublishedSubset published, java.util.function.Predicate<String> selected) {
        return ScanKeyResolver.resolve(connection, table, primaryKey, withGenerated, published, selected);
    }

    /**
     * What {@link #ofAll} plans: a table, the catalog's key override (empty for none), whether generated columns
     * are read, what the publication publishes of it and which columns are selected — the arguments of
     * {@link #of(Connection, DiscoveredTable, List, boolean, PublishedSubset, java.util.function.Predicate)}.
     */
    public record Request(DiscoveredTable table, List<String> catalogKey, boolean withGenerated, PublishedSubset published,
            java.util.function.Predicate<String> selected) {}

    /**
     * As {@link #of(Connection, DiscoveredTable, List, boolean, PublishedSubset, java.util.function.Predicate)} for
     * many tables, with a few catalog queries in all rather than a few per table; plans in request order, and
     * fails as {@code of} does for the first request that cannot be planned.
     */
    public static List<BackfillPlan> ofAll(Connection connection, List<Request> requests) {
        return ScanKeyResolver.resolveAll(connection, requests);
    }

    /** The key columns' positions in a chunk row, in key order: what {@link RowKey#of} takes for a chunk row. */
    public int[] keyPositions() {
        return key.stream().mapToInt(ScanKeyColumn::position).toArray();
    }

    public List<String> keyColumnNames() {
        return key.stream().map(ScanKeyColumn::name).toList();
    }
}
