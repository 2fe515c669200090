package io.sourcepostgres.capture;

import io.sourcepostgres.airbyte.AirbyteOutput;
import io.sourcepostgres.airbyte.LogLevel;
import io.sourcepostgres.airbyte.StreamId;
import io.sourcepostgres.state.CaptureState;
import io.sourcepostgres.state.StreamProgress;
import io.sourcepostgres.streams.CapturedStreams;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a change of a partitioned root's leaf partitions ({@link PartitionLeaves}) means for its stream, which the
 * WAL cannot tell:
 *
 * <ul>
 *   <li>a leaf that is new and holds rows ({@code ATTACH PARTITION} of a filled table, or a partition created and
 *       filled since the last check): rows attached with it were never written to the WAL under the root, so the
 *       root's backfill starts over and reads them (an INFO says so). A new leaf without rows needs nothing: whatever
 *       it held since it joined was removed by changes the stream carries.
 *   <li>a leaf that is gone ({@code DETACH PARTITION}, {@code DROP TABLE} of a partition): its rows left the root
 *       without a delete record, and nothing tells which ones the destination holds, so a WARN names the partition
 *       and the fix.
 * </ul>
 *
 * Used at the start of a run against the leaves the state recorded, and while it runs ({@link PartitionWatch}).
 */
final class PartitionChanges {
    private final PartitionLeaves leaves;
    private final Map<StreamId, Long> roots = new LinkedHashMap<>();
    private final Map<Long, Long> attachedAt = new java.util.HashMap<>();
    private final Set<StreamId> keyless = new java.util.HashSet<>();
    private final Map<StreamId, String> deferredReported = new java.util.HashMap<>();
    private final AirbyteOutput out;

    PartitionChanges(PartitionLeaves leaves, CapturedStreams captured, AirbyteOutput out) {
        this.leaves = leaves;
        this.out = out;
        for (Map.Entry<StreamId, CapturedStreams.Target> e : captured.targets().entrySet()) {
            if (e.getValue().table().isPartitioned()) {
                roots.put(e.getKey(), e.getValue().table().oid());
                if (e.getValue().key().isEmpty()) {
                    keyless.add(e.getKey());
                }
            }
        }
    }

    java.util.Collection<Long> roots() {
        return roots.values();
    }

    /** Whether {@code stream} has no key: backfilled by physical location, its backfill only starts over between runs. */
    boolean keyless(StreamId stream) {
        return keyless.contains(stream);
    }

    boolean any() {
        return !roots.isEmpty();
    }

    /**
     * The WAL position before the last check that found {@code leaf} among a captured root's leaves (0: never found):
     * a change of that partition written before it was one of the root's, since detaching a partition waits for its
     * writers.
     */
    long attachedAt(long leaf) {
        return attachedAt.getOrDefault(leaf, 0L);
    }

    /** Each captured partitioned stream's leaves now; a root that is gone or no longer partitioned is left out. */
    Map<StreamId, String> now() {
        long before = leaves.walPosition(); // read before the catalog, so that every leaf found was attached there
        Map<Long, String> byOid = leaves.of(roots.values());
        byOid.values().forEach(token -> PartitionLeaves.leaves(token).forEach(l -> attachedAt.put(l, before)));
        Map<StreamId, String> now = new LinkedHashMap<>();
        roots.forEach((stream, oid) -> {
            if (byOid.containsKey(oid)) {
                now.put(stream, byOid.get(oid));
            }
        });
        return now;
    }

    /**
     * At the start of a run: each stream whose progress recorded other leaves is reported, and started over when a
     * new leaf holds rows; every partitioned stream is stamped with its leaves now. A stream without backfill progress
     * is read whole in this run anyway; one whose state predates the record is stamped without comparison.
     */
    CaptureState atStart(CaptureState state) {
        if (!any()) {
            return state;
        }
        Map<StreamId, String> now = now();
        for (Map.Entry<StreamId, String> e : now.entrySet()) {
            StreamProgress p = state.streams().get(e.getKey());
            if (p == null) {
                continue; // full refresh: read whole every run
            }
            if (p.phase() != StreamProgress.Phase.PENDING && p.partitions() != null
                    && changed(e.getKey(), p.partitions(), e.getValue(), "since the state was taken")) {
                p = p.restarted();
            }
            state = state.withStream(e.getKey(), p.withPartitions(e.getValue()));
        }
        return state;
    }

    /**
     * Reports the difference between the leaves {@code before} and {@code now} of {@code stream}; returns whether its
     * backfill must start over (a new leaf holds rows).
     */
    boolean changed(StreamId stream, String before, String now, String when) {
        if (before.equals(now)) {
            return false;
        }
        Set<Long> was = PartitionLeaves.leaves(before);
        Set<Long> is = PartitionLeaves.leaves(now);
        List<Long> gone = was.stream().filter(l -> !is.contains(l)).toList();
        List<Long> added = is.stream().filter(l -> !was.contains(l)).toList();
        if (!gone.isEmpty()) {
            out.log(LogLevel.WARN, "Partitioned table " + stream + " lost " + String.join(", ",
                    gone.stream().map(leaves::describe).toList()) + " " + when + " (DETACH PARTITION or DROP TABLE): "
                    + "the rows it held left " + stream + " without delete records, so the destination still holds "
                    + "them. To remove them, clear the stream in the destination and backfill it again (Airbyte: refresh "
                    + "the stream and remove its records). To keep a destination exact when partitions are retired, "
                    + "DELETE their rows before detaching or dropping them (the deletes are captured).");
        }
        List<Long> filled = added.stream().filter(leaves::hasRows).toList();
        if (filled.isEmpty()) {
            if (!added.isEmpty()) {
                out.log(LogLevel.INFO, "Partitioned table " + stream + " has new empty partitions " + when + " ("
                        + String.join(", ", added.stream().map(l -> describeNew(l)).toList())
                        + "): their rows reach the stream as changes");
            }
            return false;
        }
        out.log(LogLevel.INFO, "Partitioned table " + stream + " has new partitions holding rows " + when + " ("
                + String.join(", ", filled.stream().map(this::describeNew).toList()) + ", e.g. ATTACH PARTITION of a "
                + "filled table): rows attached that way are not in the WAL, so the backfill of " + stream + " starts "
                + "over from its first row and reads them; its changes keep streaming meanwhile.");
        return true;
    }

    /**
     * Says, once per change, that a keyless root's leaves changed while captured and that the next run's start handles
     * it: a keyless backfill reads by physical location from a cut taken before replication starts, so it cannot start
     * over inside a run. Until then rows attached with a new partition are missing from the stream.
     */
    void deferred(StreamId stream, String before, String now) {
        if (now.equals(deferredReported.put(stream, now))) {
            return;
        }
        Set<Long> was = PartitionLeaves.leaves(before);
        Set<Long> is = PartitionLeaves.leaves(now);
        List<String> added = is.stream().filter(l -> !was.contains(l)).map(this::describeNew).toList();
        List<String> gone = was.stream().filter(l -> !is.contains(l)).map(leaves::describe).toList();
        out.log(LogLevel.WARN, "Partitioned table " + stream + " (captured without a key) has other partitions than when "
                + "this run started" + (added.isEmpty() ? "" : "; new: " + String.join(", ", added))
                + (gone.isEmpty() ? "" : "; gone: " + String.join(", ", gone)) + ". A table without a key is backfilled "
                + "from a cut taken before replication starts, so this is handled at the start of the next run: it reports "
                + "the change and, if a new partition holds rows, reads the table again. Until then rows attached with a "
                + "new partition are not in the stream; end this run (or let it end) to get them.");
    }

    private String describeNew(long oid) {
        String d = leaves.describe(oid);
        int cut = d.indexOf(" (now a partition of");
        return cut > 0 ? d.substring(0, cut) : d;
    }
}
