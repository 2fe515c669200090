package io.sourcepostgres.postgres;

import org.postgresql.replication.LogSequenceNumber;

/**
 * One row of {@code pg_replication_slots}.
 *
 * @param plugin     output plugin; null for a physical slot
 * @param slotType   "logical" or "physical"
 * @param database   database a logical slot belongs to; null for a physical slot
 * @param activePid  the backend streaming from the slot, or null when nobody is
 * @param confirmedFlushLsn position the consumer confirmed (logical slots); null when the server has none
 * @param restartLsn oldest WAL the slot retains; null when none is reserved
 * @param walStatus  reserved / extended / unreserved / lost (PostgreSQL 13+); null on 12, which does not say
 * @param conflicting invalidated by a recovery conflict (PostgreSQL 16+; on a standby: the primary removed catalog
 *                   rows the slot needed, or lowered wal_level); false before 16
 * @param failover   created (or altered) with failover = true, so standbys synchronise it (PostgreSQL 17+)
 * @param synced     a copy that a standby's slot synchronisation keeps (PostgreSQL 17+)
 */
public record ReplicationSlot(
        String name,
        String plugin,
        String slotType,
        String database,
        boolean active,
        Integer activePid,
        LogSequenceNumber confirmedFlushLsn,
        LogSequenceNumber restartLsn,
        String walStatus,
        boolean conflicting,
        boolean failover,
        boolean synced) {

    public static final String PGOUTPUT = "pgoutput";

    public boolean isLogical() {
        return "logical".equals(slotType);
    }

    /** Whether the server has removed WAL the slot still needed: the slot can never be read again. */
    public boolean hasLostWal() {
        return "lost".equals(walStatus);
    }
}
