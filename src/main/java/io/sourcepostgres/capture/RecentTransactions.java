package io.sourcepostgres.capture;

import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.Set;

/**
 * The xids of the transactions replication delivered most recently. A backfill chunk whose snapshot still
 * saw one of them as in progress raced its commit (the commit record was written before the chunk's low
 * fence, but the transaction was not yet visible): such a chunk is read again rather than trusted.
 */
final class RecentTransactions {
    private static final int CAPACITY = 65_536;

    private final ArrayDeque<Integer> order = new ArrayDeque<>(CAPACITY);
    private final Set<Integer> xids = new HashSet<>(CAPACITY * 2);

    void committed(int xid) {
        if (xids.add(xid)) {
            order.addLast(xid);
            if (order.size() > CAPACITY) {
                xids.remove(order.removeFirst());
            }
        }
    }

    /** Whether any of {@code inProgress} (32-bit xids) was delivered already. */
    boolean anyDelivered(java.util.List<Long> inProgress) {
        for (long xid : inProgress) {
            if (xids.contains((int) xid)) {
                return true;
            }
        }
        return false;
    }
}
