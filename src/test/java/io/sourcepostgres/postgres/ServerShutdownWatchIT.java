package io.sourcepostgres.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sourcepostgres.airbyte.ConnectorException;
import io.sourcepostgres.airbyte.FailureType;
import io.sourcepostgres.testing.Await;
import io.sourcepostgres.testing.PostgresCluster;
import io.sourcepostgres.testing.PostgresExtension;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.postgresql.PGConnection;

/**
 * The watch reads a terminated session's error without a round trip, and leaves a healthy session alone.
 * Its once-a-second pace runs on a clock the test steps, so no test waits for the second to pass.
 */
@ExtendWith(PostgresExtension.class)
class ServerShutdownWatchIT {
    private static final long SECOND = 1_000_000_000L;

    private final AtomicLong clock = new AtomicLong();

    @Test
    void aHealthySessionPassesAndIsNotQueried(PostgresCluster pg) throws Exception {
        try (Connection watched = pg.connect(); Connection observer = pg.connect()) {
            int pid = watched.unwrap(PGConnection.class).getBackendPID();
            ServerShutdownWatch watch = new ServerShutdownWatch(watched, clock::get);
            String before = stateChange(observer, pid);
            for (int i = 0; i < 3; i++) {
                clock.addAndGet(SECOND + SECOND / 10);
                watch.check();
            }
            assertThat(stateChange(observer, pid)).as("the watched session ran nothing").isEqualTo(before);
        }
    }

    @Test
    void aSessionTheServerTerminatedIsATransientError(PostgresCluster pg) throws Exception {
        try (Connection watched = pg.connect(); Connection admin = pg.connect()) {
            int pid = watched.unwrap(PGConnection.class).getBackendPID();
            ServerShutdownWatch watch = new ServerShutdownWatch(watched, clock::get);
            terminate(admin, pid);
            clock.addAndGet(SECOND + SECOND / 10);
            assertThatThrownBy(watch::check)
                    .isInstanceOfSatisfying(ConnectorException.class,
                            e -> assertThat(e.failureType()).isEqualTo(FailureType.TRANSIENT_ERROR))
                    .hasMessageContaining("shutting down or restarting")
                    .hasMessageContaining("terminating connection due to administrator command");
        }
    }

    @Test
    void checksAtMostOnceASecond(PostgresCluster pg) throws Exception {
        try (Connection watched = pg.connect(); Connection admin = pg.connect()) {
            int pid = watched.unwrap(PGConnection.class).getBackendPID();
            ServerShutdownWatch watch = new ServerShutdownWatch(watched, clock::get);
            terminate(admin, pid);
            clock.addAndGet(SECOND / 10);
            watch.check(); // within the first second: not looked at yet
            clock.addAndGet(SECOND);
            assertThatThrownBy(watch::check).isInstanceOf(ConnectorException.class);
        }
    }

    /**
     * Terminates the backend and waits until it has exited: its FATAL message went out before it left
     * pg_stat_activity, so it is in the watched session's socket when this returns.
     */
    private static void terminate(Connection admin, int pid) throws Exception {
        try (Statement st = admin.createStatement()) {
            st.execute("SELECT pg_terminate_backend(" + pid + ")");
        }
        Await.until("backend " + pid + " to exit", Duration.ofSeconds(60), () -> gone(admin, pid));
    }

    private static boolean gone(Connection admin, int pid) {
        try (Statement st = admin.createStatement();
                ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE pid = " + pid)) {
            rs.next();
            return rs.getInt(1) == 0;
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String stateChange(Connection observer, int pid) throws Exception {
        try (Statement st = observer.createStatement();
                ResultSet rs = st.executeQuery("SELECT state_change::text FROM pg_stat_activity WHERE pid = " + pid)) {
            assertThat(rs.next()).isTrue();
            return rs.getString(1);
        }
    }
}
