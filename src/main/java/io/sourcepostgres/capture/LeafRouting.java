package io.sourcepostgres.capture;

import io.sourcepostgres.airbyte.StreamId;
import io.sourcepostgres.pgoutput.Lsn;
import io.sourcepostgres.pgoutput.PgOutputMessage;
import io.sourcepostgres.streams.CapturedStreams;
import java.util.Set;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * Decides, at each Relation message of a partition, whether the changes that follow still belong to its root's
 * stream: a partition detached (or dropped, and its oid reused) since is a table of its own, and what is written to it
 * after the detach never was a row of the root. pgoutput describes a relation again after such a change, before the
 * partition's next change, so the decision is taken there:
 *
 * <ul>
 *   <li>still a partition of the root in the catalog now: the root's;
 *   <li>with {@code publish_via_partition_root} and the root published, an attached partition's changes arrive under
 *       the root's relation, never its own (pgoutput still describes the partition itself beside the root with its
 *       first change in a session, which the catalog check above places); a partition's own relation that is no
 *       longer attached is from after it left;
 *   <li>otherwise (PostgreSQL 12, or a publication without that option) the changes come per partition, and only the
 *       position tells: one written before the last check that still found the partition attached
 *       ({@link PartitionChanges#attachedAt}) is the root's, a later one is taken as the detached table's. A change
 *       written to the partition after that check but before its detach, whose Relation message came after the
 *       detach (the first change of the partition in the session, or after another change to its definition), is
 *       lost to the root's stream; the WARN about the detach says so.
 * </ul>
 */
final class LeafRouting {
    private final Function<PgOutputMessage.Relation, CapturedStreams.Target> targets;
    private final PartitionLeaves leaves;
    private final PartitionChanges changes;
    private final Set<Long> viaRoot;
    private final LongSupplier received;

    LeafRouting(Function<PgOutputMessage.Relation, CapturedStreams.Target> targets, PartitionLeaves leaves,
            PartitionChanges changes, Set<Long> viaRoot, LongSupplier received) {
        this.targets = targets;
        this.leaves = leaves;
        this.changes = changes;
        this.viaRoot = viaRoot;
        this.received = received;
    }

    CapturedStreams.Target targetOf(PgOutputMessage.Relation relation) {
        CapturedStreams.Target t = targets.apply(relation);
        long oid = Integer.toUnsignedLong(relation.relationId());
        if (t == null || !t.table().isPartitioned() || t.table().oid() == oid
                || t.stream().equals(new StreamId(relation.namespace(), relation.name()))) {
            return t; // not captured, not a partition, or the root itself (RelationWatch follows its identity)
        }
        long root = t.table().oid();
        if (leaves.isPartitionOf(oid, root)) {
            return t;
        }
        if (!viaRoot.contains(root) && Lsn.compare(received.getAsLong(), changes.attachedAt(oid)) < 0) {
            return t;
        }
        return null;
    }
}
