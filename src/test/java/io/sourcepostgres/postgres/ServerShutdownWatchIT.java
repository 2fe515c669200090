package io.sourcepostgres.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sourcepostgres.airbyte.ConnectorException;
import io.sourcepostgres.airbyte.FailureType;
import io.sourcepostgres.testing.PostgresCluster;
import io.sourcepostgres.testing.PostgresExtension;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.postgresql.PGConnection;

/** The watch reads a terminated session's error without a round trip, and leaves a healthy session alone. */
@ExtendWith(PostgresExtension.class)
class ServerShutdownWatchIT {

    @Test
    void aHealthySessionPassesAndIsNotQueried(PostgresCluster pg) throws Exception {
        try (Connection watched = pg.connect(); Connection observer = pg.connect()) {
            int pid = watched.unwrap(PGConnection.class).getBackendPID();
            ServerShutdownWatch watch = new ServerShutdownWatch(watched);
            String before = stateChange(observer, pid);
            for (int i = 0; i < 3; i++) {
                Thread.sleep(1100);
                watch.check();
            }
            assertThat(stateChange(observer, pid)).as("the watched session ran nothing").isEqualTo(before);
        }
    }

    @Test
    void aSessionTheServerTerminatedIsATransientError(PostgresCluster pg) throws Exception {
        try (Connection watched = pg.connect(); Connection admin = pg.connect()) {
            int pid = watched.unwrap(PGConnection.class).getBackendPID();
            ServerShutdownWatch watch = new ServerShutdownWatch(watched);
            try (Statement st = admin.createStatement()) {
                st.execute("SELECT pg_terminate_backend(" + pid + ")");
            }
            Thread.sleep(1100);
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
            ServerShutdownWatch watch = new ServerShutdownWatch(watched);
            try (Statement st = admin.createStatement()) {
                st.execute("SELECT pg_terminate_backend(" + pid + ")");
            }
            Thread.sleep(100);
            watch.check(); // within the first second: not looked at yet
            Thread.sleep(1000);
            assertThatThrownBy(watch::check).isInstanceOf(ConnectorException.class);
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
