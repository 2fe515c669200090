package io.sourcepostgres.capture;

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
 */
public final class WalFence {
    public static final String PREFIX = "source-postgres/fence";

    private WalFence() {}

    /** Writes a fence and returns its LSN. */
    public static long emit(Connection query) throws SQLException {
        try (Statement st = query.createStatement()) {
            st.execute("SET synchronous_commit = local");
            try (ResultSet rs = st.executeQuery("SELECT pg_catalog.pg_logical_emit_message(true, '" + PREFIX + "', '')::text")) {
                rs.next();
                return Lsn.parse(rs.getString(1));
            }
        }
    }
}
