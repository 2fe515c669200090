package io.sourcepostgres.postgres;

import io.sourcepostgres.airbyte.ConnectorException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.util.function.LongSupplier;
import org.postgresql.jdbc.PgConnection;

/**
 * Notices that the server is shutting down, from an idle query session, without sending anything.
 *
 * <p>Why it is needed: at a fast shutdown PostgreSQL ends every ordinary session at once, but a logical
 * walsender first waits until its client has confirmed everything it was sent. This connector confirms
 * only the position the orchestrator has stored, so the walsender never stops waiting: the shutdown
 * would hang as long as the capture keeps streaming, and the capture would keep waiting for WAL that never
 * comes. The query session, terminated with {@code 57P01}, is the signal; at an immediate shutdown or a
 * crash the server sends a {@code 57P0x} warning before cutting it. pgjdbc reads either from the socket
 * when asked for notifications, without a round trip.
 */
public final class ServerShutdownWatch {
    private static final long CHECK_INTERVAL_NANOS = 1_000_000_000L;

    private final PgConnection session;
    private final LongSupplier nanoClock;
    private long lastCheck;

    public ServerShutdownWatch(Connection session) throws SQLException {
        this(session, System::nanoTime);
    }

    /** @param nanoClock {@link System#nanoTime} but in tests, which step it instead of waiting a second */
    ServerShutdownWatch(Connection session, LongSupplier nanoClock) throws SQLException {
        this.session = session.unwrap(PgConnection.class);
        this.nanoClock = nanoClock;
        this.lastCheck = nanoClock.getAsLong();
    }

    /**
     * Throws a transient error once the server has ended (or announced the end of) the session; looks at
     * most once a second, so it may be called on every idle turn of a loop.
     */
    public void check() {
        long now = nanoClock.getAsLong();
        if (now - lastCheck < CHECK_INTERVAL_NANOS) {
            return;
        }
        lastCheck = now;
        try {
            session.getNotifications();
            for (SQLWarning w = session.getWarnings(); w != null; w = w.getNextWarning()) {
                if (isShutdown(w.getSQLState())) {
                    throw goingAway(w.getMessage(), w);
                }
            }
            session.clearWarnings();
        } catch (SQLException e) {
            SqlFailures.Cause cause = SqlFailures.causeOf(e);
            if (cause == SqlFailures.Cause.SERVER_RESTARTING || cause == SqlFailures.Cause.CONNECTION_LOST) {
                throw goingAway(e.getMessage(), e);
            }
            throw SqlFailures.failure("The query session, while streaming,", e);
        }
    }

    /**
     * Class 57P, operator intervention: 57P01 admin shutdown (fast or immediate stop), 57P02 crash shutdown.
     * Warnings carry no exception to classify, hence this one look at a code of our own.
     */
    private static boolean isShutdown(String sqlState) {
        return sqlState != null && sqlState.startsWith("57P");
    }

    private static ConnectorException goingAway(String message, Throwable cause) {
        return ConnectorException.transientError("The PostgreSQL server is shutting down or restarting (" + message
                + "). The run stops so that the server can finish its shutdown; the next run resumes from the last "
                + "emitted state once the server is back.", cause);
    }
}
