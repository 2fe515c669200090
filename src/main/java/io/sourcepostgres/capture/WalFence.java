package io.sourcepostgres.capture;

import io.sourcepostgres.pgoutput.Lsn;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * A point in the WAL that replication is certain to pass: a tiny non-transactional logical decoding
 * message. Its end LSN is exactly where the walsender's position lands once it has decoded everything
 * written before it, so "caught up with the server as of now" needs no timer and no guess. On 14+
 * pgoutput also delivers the message in-stream; on 12–13 the walsender's keepalive reports passing it.
 * {@code pg_logical_emit_message} is executable by every role and touches no table.
 */
public final class WalFence {
    public static final String PREFIX = "source-postgres/fence";

    private WalFence() {}

    /** Writes a fence and returns its LSN. */
    public static long emit(Connection query) throws SQLException {
        try (Statement st = query.createStatement();
                ResultSet rs = st.executeQuery("SELECT pg_catalog.pg_logical_emit_message(false, '" + PREFIX + "', '')::text")) {
            rs.next();
            return Lsn.parse(rs.getString(1));
        }
    }
}
