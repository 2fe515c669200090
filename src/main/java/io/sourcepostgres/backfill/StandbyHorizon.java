package io.sourcepostgres.backfill;

import io.sourcepostgres.airbyte.ConnectorException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * What stands in for {@link TableWriters} on a standby, whose {@code pg_locks} shows none of the primary's
 * locks: a chunk's high fence waits until every transaction the standby had seen start by the time of the read
 * has ended, whichever table it writes. A snapshot's list of running transactions is not enough: it leaves out
 * those newer than the last one to end (at or past its {@code xmax}), and such a transaction may have changed a
 * chunk row before the low fence. The horizon is the standby's next transaction id, which replay advances past
 * every id it meets ({@code age(xid)} counts from it on a session without an id of its own); it has passed once
 * a fresh snapshot's {@code xmin} reaches it. A long transaction anywhere on the primary delays the fence, never
 * the stream.
 */
public final class StandbyHorizon {
    private StandbyHorizon() {}

    /**
     * A result column for the horizon of a chunk read in a snapshot: the age of the snapshot's {@code xmin} on a
     * standby, NULL on a primary. Its one parameter is {@link #parameter}; {@link #from} reads it.
     */
    static final String COLUMN = "CASE WHEN pg_catalog.pg_is_in_recovery() THEN pg_catalog.age(?::text::xid) END";

    /** The value of {@link #COLUMN}'s parameter for a chunk read in {@code snapshot}. */
    static long parameter(ChunkSnapshot snapshot) {
        return snapshot.xmin() & 0xFFFFFFFFL;
    }

    /** The horizon for a chunk read in {@code snapshot} from {@link #COLUMN}, or -1 when the server is not a standby. */
    static long from(ChunkSnapshot snapshot, ResultSet rs, int column) throws SQLException {
        int age = rs.getInt(column);
        return rs.wasNull() ? -1 : snapshot.xmin() + age;
    }

    /** Whether every transaction below {@code horizon} (a full 64-bit id) has ended. */
    static boolean passed(Connection c, long horizon) {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT pg_catalog.pg_snapshot_xmin(pg_catalog.pg_current_snapshot())::text::bigint >= ?")) {
            ps.setLong(1, horizon);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        } catch (SQLException e) {
            throw ConnectorException.transientError("Checking the standby's running transactions failed: "
                    + e.getMessage(), e);
        }
    }
}
