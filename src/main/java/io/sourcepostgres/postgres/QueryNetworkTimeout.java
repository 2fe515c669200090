package io.sourcepostgres.postgres;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;

/**
 * How long a query connection waits for the next byte from the server before it gives up (pgjdbc's socket
 * timeout). Without it a connection whose network path goes silent — a stalled proxy, a partition, a server
 * host frozen — blocks a backfill COPY or a TOAST fetch until TCP gives up, which for a socket that is
 * only reading is never (keepalive probes are answered by whatever middlebox holds the path).
 *
 * <p>The bound is {@code statement_timeout_seconds} plus a margin when one is configured (the server's own
 * cancellation then always comes first, with its clearer message), and {@link #WITHOUT_STATEMENT_TIMEOUT}
 * otherwise: far more than any chunk read waits for its first row. Slot creation legitimately waits for
 * every running transaction to end, however long, so it runs {@link #unbounded}.
 */
public final class QueryNetworkTimeout {
    static final Duration MARGIN = Duration.ofSeconds(30);
    public static final Duration WITHOUT_STATEMENT_TIMEOUT = Duration.ofMinutes(10);

    private QueryNetworkTimeout() {}

    /** The socket timeout of query connections under a statement timeout (zero: the server's setting). */
    public static Duration of(Duration statementTimeout) {
        return statementTimeout.isZero() ? WITHOUT_STATEMENT_TIMEOUT : statementTimeout.plus(MARGIN);
    }

    /** Sets the connection's socket timeout. */
    public static void apply(Connection c, Duration timeout) throws SQLException {
        c.setNetworkTimeout(Runnable::run, (int) Math.min(Integer.MAX_VALUE, timeout.toMillis()));
    }

    /** A call that may legitimately wait without receiving anything. */
    @FunctionalInterface
    public interface SqlCall<T> {
        T call() throws SQLException;
    }

    /** Runs {@code call} with no socket timeout, then restores the connection's timeout. */
    public static <T> T unbounded(Connection c, SqlCall<T> call) throws SQLException {
        int previous = c.getNetworkTimeout();
        c.setNetworkTimeout(Runnable::run, 0);
        try {
            return call.call();
        } finally {
            c.setNetworkTimeout(Runnable::run, previous);
        }
    }
}
