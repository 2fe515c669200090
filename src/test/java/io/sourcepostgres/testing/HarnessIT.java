package io.sourcepostgres.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(PostgresExtension.class)
class HarnessIT {
    @Test
    void sharedClusterIsLogicalWithNonUtcTimeZoneAndTheRequestedVersion(PostgresCluster pg) throws Exception {
        try (Connection c = pg.connect(); Statement st = c.createStatement()) {
            assertThat(scalar(st, "SHOW wal_level")).isEqualTo("logical");
            assertThat(scalar(st, "SHOW server_version_num")).startsWith(PostgresCluster.VERSION);
            assertThat(scalar(st, "SHOW server_encoding")).isEqualTo("UTF8");
            assertThat(scalar(st, "SHOW TimeZone")).isNotEqualToIgnoringCase("UTC");
        }
    }

    @Test
    void aSecondDifferentlyConfiguredClusterIsOneLine() throws Exception {
        try (PostgresCluster replica = PostgresCluster.start(PostgresCluster.options().set("wal_level", "replica"));
                Connection c = replica.connect();
                Statement st = c.createStatement()) {
            assertThat(scalar(st, "SHOW wal_level")).isEqualTo("replica");
        }
    }

    private static String scalar(Statement st, String sql) throws Exception {
        try (ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }
}
