package io.sourcepostgres.backfill;

import java.util.ArrayList;
import java.util.List;

/**
 * The MVCC snapshot a chunk was read in ({@code pg_current_snapshot()}, {@code txid_current_snapshot()} on
 * PostgreSQL 12): which transactions' effects the chunk's rows include. Transaction ids are full 64-bit
 * ids (epoch and xid).
 *
 * @param xmin every transaction below it had finished when the snapshot was taken
 * @param xmax one past the highest transaction that had finished: no transaction from it on is included,
 *     whether it was running or not yet started (a running transaction at or past xmax is not listed)
 * @param inProgress the transactions below xmax still running at that moment, ascending
 */
public record ChunkSnapshot(long xmin, long xmax, List<Long> inProgress) {

    public ChunkSnapshot {
        inProgress = List.copyOf(inProgress);
    }

    /** Parses PostgreSQL's text form {@code xmin:xmax:xip1,xip2,...}. */
    public static ChunkSnapshot parse(String text) {
        String[] parts = text.split(":", -1);
        if (parts.length != 3) {
            throw new IllegalArgumentException("not a snapshot: " + text);
        }
        List<Long> xip = new ArrayList<>();
        if (!parts[2].isEmpty()) {
            for (String x : parts[2].split(",")) {
                xip.add(Long.parseLong(x));
            }
        }
        return new ChunkSnapshot(Long.parseLong(parts[0]), Long.parseLong(parts[1]), xip);
    }

    /**
     * Whether the chunk includes the effects of transaction {@code xid} if it committed: it had finished
     * before the snapshot. {@code xid} is a full 64-bit id.
     */
    public boolean includes(long xid) {
        return xid < xmin || (xid < xmax && !inProgress.contains(xid));
    }

    /**
     * As {@link #includes(long)} for a 32-bit transaction id, as pgoutput's BEGIN message carries it; the
     * epoch is taken from {@code xmax}, the id being within 2^31 of it like every live transaction id.
     */
    public boolean includes32(long xid32) {
        int distance = (int) (xid32 - xmax);
        return distance < 0 && includes(xmax + distance);
    }
}
