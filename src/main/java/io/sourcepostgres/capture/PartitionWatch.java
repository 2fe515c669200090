package io.sourcepostgres.capture;

import io.sourcepostgres.airbyte.StreamId;
import io.sourcepostgres.state.Checkpoints;
import io.sourcepostgres.state.StreamProgress;
import java.util.HashMap;
import java.util.Map;

/**
 * Follows the leaf partitions of the captured partitioned tables while the capture runs ({@link PartitionChanges}
 * says what a change means). Checked on the capture thread at most every {@link #INTERVAL_NANOS}: when the stream is
 * idle, and when pgoutput describes a relation of a partitioned stream again (it does after the root's relcache was
 * invalidated, which attaching or detaching a partition does). A change missed before the run ends is found by the
 * next run, since the state keeps the leaves last handled, never newer ones. A keyless root's change is left to the
 * next run's start, with a WARN when it is noticed (see {@link #check}).
 */
final class PartitionWatch {
    static final long INTERVAL_NANOS = 2_000_000_000L;

    private final PartitionChanges changes;
    private final Checkpoints checkpoints;
    private final BackfillRestarts restarts;
    private final Map<StreamId, String> known = new HashMap<>();
    private long lastCheck = System.nanoTime();

    PartitionWatch(PartitionChanges changes, Checkpoints checkpoints, BackfillRestarts restarts) {
        this.changes = changes;
        this.checkpoints = checkpoints;
        this.restarts = restarts;
        checkpoints.state().streams().forEach((id, p) -> {
            if (p.partitions() != null) {
                known.put(id, p.partitions());
            }
        });
    }

    /** Checks now if the last check is {@link #INTERVAL_NANOS} ago. */
    void poll() {
        if (changes.any() && System.nanoTime() - lastCheck >= INTERVAL_NANOS) {
            check();
        }
    }

    void check() {
        lastCheck = System.nanoTime();
        for (Map.Entry<StreamId, String> e : changes.now().entrySet()) {
            StreamId stream = e.getKey();
            StreamProgress p = checkpoints.progressOf(stream);
            String before = known.get(stream);
            if (p == null || before == null) {
                continue; // not replicated, or not partitioned when the run started
            }
            if (changes.keyless(stream) && !before.equals(e.getValue())) {
                // A keyless backfill starts over with a cut of its own, taken before replication runs: at the next
                // run's start, which finds the leaves the state still records and reports the change then.
                if (p.partitions() == null) {
                    checkpoints.progress(stream, p.withPartitions(before)); // a keyless backfill wrote it without
                }
                changes.deferred(stream, before, e.getValue());
                continue;
            }
            if (changes.changed(stream, before, e.getValue(), "while captured")) {
                restarts.restart(stream);
            }
            known.put(stream, e.getValue());
            p = checkpoints.progressOf(stream);
            if (!e.getValue().equals(p.partitions())) {
                // Also re-stamps a progress that a keyless backfill wrote without it.
                checkpoints.progress(stream, p.withPartitions(e.getValue()));
            }
        }
    }
}
