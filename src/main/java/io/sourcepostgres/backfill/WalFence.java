package io.sourcepostgres.backfill;

import io.sourcepostgres.pgoutput.Lsn;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * A point in the WAL that replication is certain to pass: a tiny logical decoding message in a
 * transaction of its own, committed with a local flush ({@code synchronous_commit = local}) so that the
 * walsender, which only decodes flushed WAL, reaches it at once rather than after the WAL writer's next
 * round. Once its commit has been received, everything written before the fence has been too, so
 * "caught up with the server as of now" needs no timer and no guess. On 14+ pgoutput delivers the
 * message in-stream; on 12–13 the commit or the walsender's keepalive reports passing it.
 * {@code pg_logical_emit_message} is executable by every role and touches no table.
 *
 * <p>A standby (PostgreSQL 16+ decodes there) accepts no write, and needs none: its walsender decodes exactly
 * the WAL it has replayed, so its replay position ({@code pg_last_wal_replay_lsn()}) is a point replication is
 * certain to reach, and everything the standby showed before it lies before it.
 */
public final class WalFence {
    public static final String PREFIX = "source-postgres/fence";

    private WalFence() {}

    /** Writes a fence and returns its LSN; on a standby, returns its replay position instead. */
    public static long emit(Connection query) throws SQLException {
        // One round trip, and right whether the server is a standby or (after a promotion) no longer one. The
        // setting is the session's (as SET makes it) and is read when the statement's transaction commits, after it.
        try (Statement st = query.createStatement();
                ResultSet rs = st.executeQuery("SELECT pg_catalog.set_config('synchronous_commit', 'local', false),"
                        + " CASE WHEN pg_catalog.pg_is_in_recovery() THEN pg_catalog.pg_last_wal_replay_lsn()"
                        + " ELSE pg_catalog.pg_logical_emit_message(true, '" + PREFIX + "', '') END::text")) {
            rs.next();
            return Lsn.parse(rs.getString(2));
        }
    }
}
