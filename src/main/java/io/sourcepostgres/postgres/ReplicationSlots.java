package io.sourcepostgres.postgres;

import io.sourcepostgres.airbyte.ConnectorException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;
import org.postgresql.replication.LogSequenceNumber;

/** Finds, creates and drops replication slots through SQL on a query connection. */
public final class ReplicationSlots {
    private ReplicationSlots() {}

    public static Optional<ReplicationSlot> find(Connection c, String name) throws SQLException {
        // wal_status arrived in PostgreSQL 13; on 12 the column does not exist.
        int major = c.getMetaData().getDatabaseMajorVersion();
        String walStatus = major >= 13 ? "wal_status" : "NULL::text";
        // conflicting arrived in 16 (NULL for physical slots), failover and synced in 17.
        String later = (major >= 16 ? ", coalesce(conflicting, false)" : ", false")
                + (major >= 17 ? ", failover, synced" : ", false, false");
        String sql = "SELECT slot_name, plugin, slot_type, database, active, active_pid,"
                + " confirmed_flush_lsn::text, restart_lsn::text, " + walStatus + later
                + " FROM pg_catalog.pg_replication_slots WHERE slot_name = ?";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                int pid = rs.getInt(6);
                Integer activePid = rs.wasNull() ? null : pid;
                return Optional.of(new ReplicationSlot(rs.getString(1), rs.getString(2), rs.getString(3),
                        rs.getString(4), rs.getBoolean(5), activePid, lsn(rs.getString(7)), lsn(rs.getString(8)),
                        rs.getString(9), rs.getBoolean(10), rs.getBoolean(11), rs.getBoolean(12)));
            }
        }
    }

    /** How many slots of any kind exist: creating one more needs this below {@code max_replication_slots}. */
    public static int count(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM pg_catalog.pg_replication_slots");
                ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getInt(1);
        }
    }

    /**
     * Creates a logical slot for pgoutput in the connection's database and returns it. The server waits for
     * transactions running at that moment to end before it returns (it needs a consistent starting point),
     * so a long open transaction delays this call. The connection must not be inside a transaction that
     * has written anything.
     */
    public static ReplicationSlot createPgoutput(Connection c, String name) throws SQLException {
        return createPgoutput(c, name, false);
    }

    /**
     * As {@link #createPgoutput(Connection, String)}; with {@code failover} (PostgreSQL 17+) the slot is one that
     * standbys with {@code sync_replication_slots} keep a copy of. On a standby (16+) the server also waits for
     * the primary to log its running transactions, which the primary does every 15 s while it writes, or at once
     * on {@code pg_log_standby_snapshot()}.
     */
    public static ReplicationSlot createPgoutput(Connection c, String name, boolean failover) throws SQLException {
        String sql = failover
                ? "SELECT slot_name FROM pg_catalog.pg_create_logical_replication_slot(?, 'pgoutput', false, false, true)"
                : "SELECT slot_name FROM pg_catalog.pg_create_logical_replication_slot(?, 'pgoutput')";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, name);
            // Waiting for running transactions sends nothing back however long it takes: no socket timeout.
            QueryNetworkTimeout.unbounded(c, () -> {
                ps.executeQuery().close();
                return null;
            });
        } catch (SQLException e) {
            ConnectorException known = understood(e, c, name);
            if (known != null) {
                throw known;
            }
            throw e;
        }
        return find(c, name).orElseThrow(() -> new SQLException("slot " + name + " vanished right after creation"));
    }

    /** Drops the slot; it must not be in use. */
    public static void drop(Connection c, String name) throws SQLException {
        callWithSlotName(c, "SELECT pg_catalog.pg_drop_replication_slot(?)", name);
    }

    private static void callWithSlotName(Connection c, String sql, String name) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, name);
            ps.executeQuery().close();
        } catch (SQLException e) {
            ConnectorException known = understood(e, c, name);
            if (known != null) {
                throw known;
            }
            throw e;
        }
    }

    /** The failures whose cause is known, as messages that say what to do; null for any other. */
    private static ConnectorException understood(SQLException e, Connection c, String name) throws SQLException {
        String state = e.getSQLState() == null ? "" : e.getSQLState();
        String slot = Sql.literal(name);
        return switch (state) {
            case "42710" -> SqlFailures.explained("Replication slot " + slot + " already exists: another process"
                    + " created it meanwhile. Make sure no other capture uses slot_name " + slot + ".", e);
            case "42704" -> SqlFailures.explained("Replication slot " + slot + " does not exist.", e);
            case "55006" -> SqlFailures.explained("Replication slot " + slot + " is in use by another"
                    + " connection. Stop the process reading it (active_pid in pg_replication_slots) and retry.", e);
            case "53400" -> SqlFailures.explained("Cannot create replication slot " + slot + ": all replication"
                    + " slots are in use. Drop an unused one (SELECT pg_drop_replication_slot('<name>');) or raise"
                    + " max_replication_slots in postgresql.conf and restart the server.", e);
            case "55000" -> SqlFailures.explained("Replication slot " + slot + ": " + e.getMessage()
                    + ". Logical slots need wal_level = logical: set it in postgresql.conf (or ALTER SYSTEM SET"
                    + " wal_level = logical) and restart the server.", e);
            case "42501" -> SqlFailures.explained("Not allowed to use replication slots: " + e.getMessage()
                    + ". Grant the right to replicate: ALTER ROLE " + Sql.identifier(c.getMetaData().getUserName())
                    + " WITH REPLICATION;", e);
            default -> null;
        };
    }

    private static LogSequenceNumber lsn(String text) {
        return text == null ? null : LogSequenceNumber.valueOf(text);
    }
}
