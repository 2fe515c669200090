package io.sourcepostgres.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.sourcepostgres.testing.PostgresCluster;
import io.sourcepostgres.testing.PostgresExtension;
import java.sql.Connection;
import java.sql.DriverManager;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(PostgresExtension.class)
class ServerInfoIT {
    private static final String PASSWORD = "server-info-pw";

    @Test
    void superuserOnTheSharedServer(PostgresCluster pg) throws Exception {
        String db = pg.createDatabase("info");
        try (Connection c = pg.connect(db)) {
            ServerInfo info = ServerInfo.read(c);

            assertThat(info.majorVersion()).isEqualTo(pg.majorVersion());
            assertThat(info.versionNum()).isGreaterThanOrEqualTo(ServerInfo.MIN_VERSION_NUM);
            assertThat(info.version()).startsWith(pg.version() + ".");
            assertThat(info.walLevel()).isEqualTo("logical");
            assertThat(info.systemIdentifier()).matches("[0-9]{10,20}");
            assertThat(info.maxReplicationSlots()).isEqualTo(32);
            assertThat(info.maxWalSenders()).isEqualTo(32);
            assertThat(info.inRecovery()).isFalse();
            assertThat(info.database()).isEqualTo(db);
            assertThat(info.currentUser()).isEqualTo("postgres");
            assertThat(info.superuser()).isTrue();
            assertThat(info.memberOf()).as("a superuser is not listed as a member of every role").isEmpty();
            assertThat(info.mayReplicate()).isTrue();
            assertThat(info.mayCreatePublicationForAllTables()).isTrue();
            assertThat(info.bypassesRowSecurity()).isTrue();
        }
    }

    @Test
    void ordinaryRoleWithNestedMembershipsAndNoRightToReadTheControlFile(PostgresCluster pg) throws Exception {
        String db = pg.createDatabase("info");
        String suffix = UUID.randomUUID().toString().replace("-", "").substring(0, 8);
        String user = "Cap ture_" + suffix;
        String inner = "inner_" + suffix;
        String outer = "outer_" + suffix;
        pg.execute("postgres",
                "CREATE ROLE \"" + outer + "\"",
                "CREATE ROLE \"" + inner + "\" IN ROLE \"" + outer + "\"",
                "CREATE ROLE \"" + user + "\" LOGIN PASSWORD '" + PASSWORD + "' IN ROLE \"" + inner + "\"");
        // pg_proc is per database: this revokes it in the test's database only.
        pg.execute(db, "REVOKE EXECUTE ON FUNCTION pg_control_system() FROM PUBLIC");
        try (Connection c = DriverManager.getConnection(pg.jdbcUrl(db), user, PASSWORD)) {
            ServerInfo info = ServerInfo.read(c);

            assertThat(info.currentUser()).isEqualTo(user);
            assertThat(info.superuser()).isFalse();
            assertThat(info.replication()).isFalse();
            assertThat(info.memberOf()).containsExactlyInAnyOrder(inner, outer);
            assertThat(info.systemIdentifier()).as("unknown without EXECUTE on pg_control_system()").isNull();
            assertThat(info.mayReplicate()).isFalse();
            assertThat(info.mayCreatePublicationForAllTables()).isFalse();
            assertThat(info.bypassesRowSecurity()).isFalse();
        }
    }

    @Test
    void replicationAttributeAndCloudRolesCountAsTheRightToReplicate(PostgresCluster pg) throws Exception {
        String suffix = UUID.randomUUID().toString().replace("-", "").substring(0, 8);
        String replicator = "repl_" + suffix;
        String rdsUser = "rds_user_" + suffix;
        pg.execute("postgres",
                "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'rds_replication')"
                        + " THEN CREATE ROLE rds_replication; END IF; END $$",
                "CREATE ROLE " + replicator + " LOGIN REPLICATION PASSWORD '" + PASSWORD + "'",
                "CREATE ROLE " + rdsUser + " LOGIN PASSWORD '" + PASSWORD + "' IN ROLE rds_replication");
        try (Connection c = DriverManager.getConnection(pg.jdbcUrl("postgres"), replicator, PASSWORD)) {
            ServerInfo info = ServerInfo.read(c);
            assertThat(info.replication()).isTrue();
            assertThat(info.mayReplicate()).isTrue();
        }
        try (Connection c = DriverManager.getConnection(pg.jdbcUrl("postgres"), rdsUser, PASSWORD)) {
            ServerInfo info = ServerInfo.read(c);
            assertThat(info.replication()).isFalse();
            assertThat(info.isMemberOf("rds_replication")).isTrue();
            assertThat(info.mayReplicate()).isTrue();
        }
    }
}
