package io.sourcepostgres.postgres;

import io.sourcepostgres.config.ConnectorConfig;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * What {@code check} adds for a capture from a standby (PostgreSQL 16+) and for a failover slot (17+): the
 * settings without which the slot is invalidated on the standby, or lost, or ahead of the standby, at a failover.
 */
public final class StandbyAndFailover {
    private StandbyAndFailover() {}

    public static List<Problem> problems(Connection c, ServerInfo server, ConnectorConfig config,
            Optional<ReplicationSlot> slot) throws SQLException {
        List<Problem> problems = new ArrayList<>();
        if (server.inRecovery() && server.majorVersion() >= 16) {
            problems.addAll(standby(c, slot));
        }
        if (config.slotFailover()) {
            problems.addAll(failover(c, server, slot));
        }
        return problems;
    }

    private static List<Problem> standby(Connection c, Optional<ReplicationSlot> slot) throws SQLException {
        List<Problem> problems = new ArrayList<>();
        String reload = " and reload it (SELECT pg_reload_conf();)";
        if (!"on".equals(setting(c, "hot_standby_feedback"))) {
            problems.add(new Problem("hot_standby_feedback is off on this standby, so the primary may vacuum away catalog"
                    + " rows the slot still needs, which invalidates the slot (a new backfill)",
                    "On the standby run ALTER SYSTEM SET hot_standby_feedback = on;" + reload + "."));
        }
        String primarySlot = setting(c, "primary_slot_name");
        if (primarySlot != null && primarySlot.isEmpty()) {
            problems.add(new Problem("primary_slot_name is not set on this standby, so while it is disconnected the"
                    + " primary forgets its feedback, may vacuum away catalog rows the slot needs (invalidating it) and"
                    + " may remove WAL the standby has not received",
                    "On the primary run SELECT pg_create_physical_replication_slot('standby1'); then on the standby"
                            + " ALTER SYSTEM SET primary_slot_name = 'standby1';" + reload + "."));
        }
        if (slot.isPresent() && slot.get().synced()) {
            problems.add(new Problem("Replication slot " + Sql.literal(slot.get().name()) + " on this standby is a copy"
                    + " kept by slot synchronisation from the primary, which can only be read after a promotion",
                    "Connect to the primary, or choose another slot_name to capture from this standby."));
        }
        if (slot.isPresent() && slot.get().conflicting()) {
            problems.add(new Problem("Replication slot " + Sql.literal(slot.get().name()) + " was invalidated by a"
                    + " recovery conflict (the primary removed catalog rows it needed, or lowered wal_level)",
                    "Fix hot_standby_feedback and primary_slot_name on the standby (and wal_level = logical on the"
                            + " primary), then drop the slot (SELECT pg_drop_replication_slot("
                            + Sql.literal(slot.get().name()) + ");) and run without state to backfill again."));
        }
        return problems;
    }

    private static List<Problem> failover(Connection c, ServerInfo server, Optional<ReplicationSlot> slot)
            throws SQLException {
        if (server.majorVersion() < 17) {
            return List.of(new Problem("slot_failover is on, but PostgreSQL " + server.version() + " has no failover"
                    + " slots", "Turn slot_failover off, or upgrade to PostgreSQL 17 or newer."));
        }
        if (server.inRecovery()) {
            return List.of(new Problem("slot_failover is on, but this server is a standby, where PostgreSQL cannot"
                    + " create a failover slot", "Turn slot_failover off to capture from this standby, or connect to"
                    + " the primary."));
        }
        List<Problem> problems = new ArrayList<>();
        if (slot.isPresent() && slot.get().isLogical() && !slot.get().failover()) {
            String name = slot.get().name();
            problems.add(new Problem("slot_failover is on, but replication slot " + Sql.literal(name) + " was created"
                    + " without failover, so no standby keeps a copy of it",
                    "Make it a failover slot over a replication connection, while no capture runs: psql \"dbname="
                            + server.database() + " replication=database\" -c 'ALTER_REPLICATION_SLOT "
                            + Sql.identifier(name) + " (FAILOVER true)'"));
        }
        String standbySlots = setting(c, "synchronized_standby_slots");
        if (standbySlots == null) {
            return problems; // not readable by this role: nothing to say either way
        }
        List<String> names = Arrays.stream(standbySlots.split(",")).map(String::trim).filter(s -> !s.isEmpty())
                .map(s -> s.startsWith("\"") && s.endsWith("\"") ? s.substring(1, s.length() - 1) : s).toList();
        if (names.isEmpty()) {
            problems.add(new Problem("synchronized_standby_slots is empty, so the primary may send the capture changes"
                    + " its standby has not received: after a failover the standby's copy of the slot would lag behind"
                    + " what the capture already emitted, and those changes would be gone from the new primary",
                    "On the primary name the physical slot of each standby that synchronises slots: ALTER SYSTEM SET"
                            + " synchronized_standby_slots = 'standby1'; SELECT pg_reload_conf(); On each such standby set"
                            + " sync_replication_slots = on, hot_standby_feedback = on, primary_slot_name = 'standby1' and"
                            + " a dbname in primary_conninfo."));
            return problems;
        }
        for (String name : names) {
            Optional<ReplicationSlot> physical = ReplicationSlots.find(c, name);
            if (physical.isEmpty() || physical.get().isLogical()) {
                problems.add(new Problem("synchronized_standby_slots names " + Sql.literal(name) + ", which is not a"
                        + " physical replication slot on this server, so the primary holds back every change from the"
                        + " capture until it exists and a standby streams from it",
                        "Create it (SELECT pg_create_physical_replication_slot(" + Sql.literal(name) + ");) and set"
                                + " primary_slot_name = " + Sql.literal(name) + " on the standby, or remove it from"
                                + " synchronized_standby_slots."));
            } else if (!physical.get().active()) {
                problems.add(new Problem("The standby of physical slot " + Sql.literal(name) + " (named in"
                        + " synchronized_standby_slots) is not connected, so the primary holds back every change from"
                        + " the capture until it is",
                        "Start that standby (with primary_slot_name = " + Sql.literal(name) + "), or remove the slot from"
                                + " synchronized_standby_slots."));
            }
        }
        return problems;
    }

    /** A setting's value, or null when it does not exist or this role may not read it. */
    private static String setting(Connection c, String name) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT setting FROM pg_catalog.pg_settings WHERE name = ?")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }
}
