package io.sourcepostgres.discovery;

import io.sourcepostgres.airbyte.StreamId;

/**
 * A partition (at any depth) of a partitioned table. Its rows belong to the partitioned table's stream;
 * unless the publication publishes via the root ({@code publish_via_partition_root}), pgoutput reports
 * their changes under the partition's own relation.
 *
 * @param leaf whether it holds rows itself (not partitioned further)
 * @param inPublication whether the publication publishes its changes: it or one of its ancestors is
 *     published
 */
public record Partition(StreamId id, long oid, boolean leaf, boolean inPublication) {}
