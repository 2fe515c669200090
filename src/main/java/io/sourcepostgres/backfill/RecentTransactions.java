package io.sourcepostgres.backfill;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * The transactions replication delivered most recently, in delivery order. A backfill chunk whose snapshot
 * did not include a transaction that was delivered before the chunk's read began raced that commit: the
 * commit record was written before the chunk's low fence, so its changes went out before the chunk, but the
 * transaction was not yet visible when the snapshot was taken. Such a chunk is read again rather than
 * trusted. (Transactions delivered while the read was under way are checked against its rows one by one.)
 *
 * <p>A snapshot leaves such a transaction out in one of two ways: listed as in progress, or not listed at all
 * because its id is at or past the snapshot's xmax, which is one past the last transaction whose end the
 * server had recorded, not one past the last id it handed out.
 */
public final class RecentTransactions {
    private static final int CAPACITY = 65_536;

    private final ArrayDeque<Integer> order = new ArrayDeque<>(CAPACITY);
    private final Map<Integer, Long> sequence = new HashMap<>(CAPACITY * 2);
    private long delivered;
    /** The latest (modulo 2^32) id delivered so far; meaningful once {@code delivered > 0}. */
    private int latestXid;

    /** A point in the delivery order, taken when a read begins. */
    record Mark(long delivered, int latestXid) {}

    public void committed(int xid) {
        delivered++;
        if (delivered == 1 || xid - latestXid > 0) {
            latestXid = xid;
        }
        if (sequence.put(xid, delivered) == null) {
            order.addLast(xid);
            if (order.size() > CAPACITY) {
                sequence.remove(order.removeFirst());
            }
        }
    }

    Mark mark() {
        return new Mark(delivered, latestXid);
    }

    /** Whether a transaction delivered before {@code mark} is one that {@code snapshot} does not include. */
    boolean racedBefore(Mark mark, ChunkSnapshot snapshot) {
        if (mark.delivered() == 0) {
            return false;
        }
        if (mark.latestXid() - (int) snapshot.xmax() >= 0) {
            return true;
        }
        for (long xid : snapshot.inProgress()) {
            Long seq = sequence.get((int) xid);
            if (seq != null && seq <= mark.delivered()) {
                return true;
            }
        }
        return false;
    }
}
