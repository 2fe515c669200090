package io.sourcepostgres.discovery;

import io.sourcepostgres.airbyte.StreamId;
import java.util.List;
import java.util.Optional;

/**
 * A table (or partitioned-table root) that becomes one stream, as the catalog described it at one moment.
 *
 * @param id its schema and name, exactly as PostgreSQL spells them
 * @param oid its {@code pg_class} oid (stable for the table's lifetime; pgoutput's relation id)
 * @param relkind {@code r} ordinary table, {@code p} partitioned table
 * @param persistence {@code relpersistence}: {@code p} permanent, {@code u} unlogged (never replicated)
 * @param replicaIdentity {@code relreplident}: {@code d} default (primary key), {@code f} full, {@code i}
 *     index, {@code n} nothing; decides what old values an UPDATE or DELETE carries
 * @param columns its columns in {@code attnum} order, dropped ones left out, generated ones included
 * @param primaryKey its primary key columns in key order (the first {@code pg_index.indnkeyatts} of {@code indkey}:
 *     INCLUDE columns are not part of it); empty without one
 * @param schemaUsage whether the user has USAGE on the table's schema
 * @param selectPrivilege whether the user has SELECT on the table itself
 * @param inPublication whether the configured publication publishes the table's changes: it lists the
 *     table, or for a partitioned table the table or every one of its leaf partitions
 * @param partitions for a partitioned table, all its partitions (at any depth, leaves and those
 *     partitioned further); empty otherwise
 */
public record DiscoveredTable(
        StreamId id,
        long oid,
        char relkind,
        char persistence,
        char replicaIdentity,
        List<ColumnInfo> columns,
        List<String> primaryKey,
        boolean schemaUsage,
        boolean selectPrivilege,
        boolean inPublication,
        List<Partition> partitions) {

    public DiscoveredTable {
        columns = List.copyOf(columns);
        primaryKey = List.copyOf(primaryKey);
        partitions = List.copyOf(partitions);
    }

    /** Whether a backfill can read it: SELECT on the table and USAGE on its schema. */
    public boolean selectable() {
        return schemaUsage && selectPrivilege;
    }

    public boolean isPartitioned() {
        return relkind == 'p';
    }

    /** Unlogged tables write no WAL, so no publication can ever carry their changes. */
    public boolean isUnlogged() {
        return persistence == 'u';
    }

    public Optional<ColumnInfo> column(String name) {
        return columns.stream().filter(c -> c.name().equals(name)).findFirst();
    }

    /** The leaf partitions whose changes the publication does not publish; empty for an ordinary table. */
    public List<Partition> unpublishedPartitions() {
        return partitions.stream().filter(p -> p.leaf() && !p.inPublication()).toList();
    }
}
