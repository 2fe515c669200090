package io.sourcepostgres.replication;

import io.sourcepostgres.airbyte.LogSink;
import io.sourcepostgres.airbyte.ConnectorException;
import io.sourcepostgres.airbyte.LogLevel;
import io.sourcepostgres.config.ConnectorConfig;
import io.sourcepostgres.postgres.Prerequisites;
import io.sourcepostgres.postgres.Publications;
import io.sourcepostgres.postgres.ReplicationSlot;
import io.sourcepostgres.postgres.ReplicationSlots;
import io.sourcepostgres.postgres.ServerInfo;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Optional;

/**
 * Makes sure the publication and the slot a read needs exist and are usable, creating them when the
 * configuration allows (and saying so), refusing with the fix otherwise.
 */
public final class SlotAndPublication {
    private SlotAndPublication() {}

    public static ReplicationSlot prepare(Connection query, ConnectorConfig config, ServerInfo server, LogSink out)
            throws SQLException {
        Optional<ReplicationSlot> found = ReplicationSlots.find(query, config.slotName());
        if (found.isPresent()) {
            awaitInactive(query, found.get());
        }
        // The same checks, in the same words, as the check command: whatever stops a read, check reported first.
        Prerequisites.evaluateCapture(query, config).throwIfAny();
        Optional<io.sourcepostgres.postgres.Publication> publication = Publications.find(query, config.publicationName());
        if (publication.isEmpty()) {
            if (!config.createPublication()) {
                throw ConnectorException.config("Publication \"" + config.publicationName() + "\" does not exist and "
                        + "create_publication is false. Run CREATE PUBLICATION \"" + config.publicationName()
                        + "\" FOR ALL TABLES; (or FOR TABLE ...), or set create_publication to true.");
            }
            Publications.createForAllTables(query, config.publicationName());
            out.log(LogLevel.INFO, "Created publication \"" + config.publicationName() + "\" FOR ALL TABLES");
        } else {
            // check fails on it; a read goes on, since stopping would not undo what the option already did.
            io.sourcepostgres.postgres.PartitionRootPublishing.problem(publication.get(), server.majorVersion())
                    .ifPresent(p -> out.log(LogLevel.WARN, p.message()));
        }
        if (config.slotFailover() && server.majorVersion() < 17) {
            throw ConnectorException.config("slot_failover is on, but PostgreSQL " + server.version() + " has no "
                    + "failover slots. Turn slot_failover off, or upgrade to PostgreSQL 17 or newer.");
        }
        Optional<ReplicationSlot> existing = ReplicationSlots.find(query, config.slotName());
        ReplicationSlot slot;
        if (existing.isEmpty()) {
            if (!config.createSlot()) {
                throw ConnectorException.config("Replication slot \"" + config.slotName() + "\" does not exist and "
                        + "create_slot is false. Run SELECT pg_create_logical_replication_slot('" + config.slotName()
                        + "', 'pgoutput'); or set create_slot to true.");
            }
            warnOfPreparedTransactions(query, config.slotName(), out);
            slot = server.inRecovery() ? StandbySlotCreation.create(query, config, out)
                    : ReplicationSlots.createPgoutput(query, config.slotName(), config.slotFailover());
            out.log(LogLevel.INFO, "Created replication slot \"" + config.slotName() + "\" (pgoutput"
                    + (slot.failover() ? ", failover" : "") + ") at " + slot.confirmedFlushLsn());
        } else {
            slot = awaitInactive(query, existing.get());
        }
        verify(slot, config, server);
        if (config.slotFailover() && !slot.failover() && !server.inRecovery()) {
            out.log(LogLevel.WARN, "slot_failover is on, but replication slot \"" + config.slotName() + "\" was created "
                    + "without failover: no standby keeps a copy of it, and a failover will need a new backfill. While no "
                    + "capture runs, run: psql \"dbname=" + server.database() + " replication=database\" -c "
                    + "'ALTER_REPLICATION_SLOT " + io.sourcepostgres.postgres.Sql.identifier(config.slotName())
                    + " (FAILOVER true)'");
        }
        return slot;
    }

    /**
     * Creating a logical slot waits until every transaction running at that moment has ended, prepared ones
     * too, and a forgotten prepared transaction never ends by itself: name each one and the fix before the
     * wait begins, so that a creation that hangs says why.
     */
    private static void warnOfPreparedTransactions(Connection query, String slotName, LogSink out) throws SQLException {
        try (java.sql.Statement s = query.createStatement();
                java.sql.ResultSet rs = s.executeQuery("SELECT gid, prepared::text, owner, database FROM pg_catalog.pg_prepared_xacts"
                        + " ORDER BY prepared")) {
            StringBuilder found = new StringBuilder();
            while (rs.next()) {
                found.append(found.length() > 0 ? ", " : "").append("gid '").append(rs.getString(1)).append("' prepared at ")
                        .append(rs.getString(2)).append(" by ").append(rs.getString(3)).append(" in database ")
                        .append(rs.getString(4));
            }
            if (found.length() > 0) {
                out.log(LogLevel.WARN, "Creating replication slot \"" + slotName + "\" waits until these prepared "
                        + "transactions end: " + found + ". Run COMMIT PREPARED '<gid>' or ROLLBACK PREPARED '<gid>' "
                        + "(in the database named) to let it finish.");
            }
        }
    }

    /**
     * A capture that was just killed leaves its walsender behind for a moment, until the server notices
     * the closed socket: give it a few seconds before calling the slot busy.
     */
    private static ReplicationSlot awaitInactive(Connection query, ReplicationSlot slot) throws SQLException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (slot.active() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            slot = ReplicationSlots.find(query, slot.name()).orElse(slot);
        }
        return slot;
    }

    private static void verify(ReplicationSlot slot, ConnectorConfig config, ServerInfo server) {
        String name = config.slotName();
        if (!slot.isLogical() || !ReplicationSlot.PGOUTPUT.equals(slot.plugin())) {
            throw ConnectorException.config("Replication slot \"" + name + "\" is a " + slot.slotType() + " slot with plugin "
                    + slot.plugin() + ", not a logical pgoutput slot. Choose another slot_name, or drop it: "
                    + "SELECT pg_drop_replication_slot('" + name + "');");
        }
        if (!server.database().equals(slot.database())) {
            throw ConnectorException.config("Replication slot \"" + name + "\" belongs to database \"" + slot.database()
                    + "\", not \"" + server.database() + "\". Choose another slot_name for this database.");
        }
        if (slot.hasLostWal()) {
            throw ConnectorException.config("Replication slot \"" + name + "\" was invalidated (wal_status = lost): the "
                    + "server removed WAL it still needed, so changes are gone. Drop it (SELECT pg_drop_replication_slot('"
                    + name + "');), then run without state to backfill again; raise max_slot_wal_keep_size to prevent it.");
        }
        if (slot.conflicting()) {
            throw ConnectorException.config("Replication slot \"" + name + "\" was invalidated by a recovery conflict: "
                    + "the primary removed catalog rows it needed (hot_standby_feedback was off or the standby was "
                    + "disconnected) or lowered wal_level below logical, so its changes can no longer be decoded. Set "
                    + "hot_standby_feedback = on and primary_slot_name on the standby (and wal_level = logical on the "
                    + "primary), drop the slot (SELECT pg_drop_replication_slot('" + name + "');), then run without "
                    + "state to backfill again.");
        }
        if (slot.synced() && server.inRecovery()) {
            throw ConnectorException.config("Replication slot \"" + name + "\" on this standby is a copy kept by slot "
                    + "synchronisation from the primary: it can only be read once the standby is promoted. Connect to the "
                    + "primary, or choose another slot_name to capture from this standby.");
        }
        if (slot.active()) {
            throw ConnectorException.config("Replication slot \"" + name + "\" is in use by process " + slot.activePid()
                    + ". Another capture may be reading it: stop it, or terminate it with SELECT pg_terminate_backend("
                    + slot.activePid() + "); if it is stale. Two captures must never share a slot.");
        }
        if (slot.confirmedFlushLsn() == null) {
            throw ConnectorException.config("Replication slot \"" + name + "\" has no confirmed position yet. Retry.");
        }
    }
}
