package io.sourcepostgres.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sourcepostgres.airbyte.ConnectorException;
import io.sourcepostgres.airbyte.StreamId;
import io.sourcepostgres.testing.PostgresCluster;
import io.sourcepostgres.testing.PostgresExtension;
import java.sql.Connection;
import java.sql.DriverManager;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(PostgresExtension.class)
class PublicationsIT {

    @Test
    void createForAllTablesWithAQuotedNameAndListItsTables(PostgresCluster pg) throws Exception {
        String db = pg.createDatabase("pubs");
        pg.execute(db,
                "CREATE TABLE orders (id int PRIMARY KEY)",
                "CREATE SCHEMA \"Weird \"\"Schema\"\"\"",
                "CREATE TABLE \"Weird \"\"Schema\"\"\".\"select\" (id int PRIMARY KEY)",
                "CREATE VIEW not_a_table AS SELECT 1 AS x");
        String name = "Pub \"Q\" select";
        try (Connection c = pg.connect(db)) {
            assertThat(Publications.find(c, name)).isEmpty();

            Publication created = Publications.createForAllTables(c, name);

            // Never publish_via_partition_root: see PartitionRootPublishing.
            assertThat(created).isEqualTo(new Publication(name, true, true, true, true, true, false));
            assertThat(created.missingChangeKinds()).isEmpty();
            assertThat(Publications.find(c, name)).contains(created);
            assertThat(Publications.tables(c, name)).containsExactly(
                    new StreamId("Weird \"Schema\"", "select"), new StreamId("public", "orders"));
            assertThat(Publications.createForAllTables(c, name)).as("already there: returned as it is")
                    .isEqualTo(created);
        }
    }

    @Test
    void findReportsWhatAPublicationLeavesOut(PostgresCluster pg) throws Exception {
        String db = pg.createDatabase("pubs");
        pg.execute(db,
                "CREATE TABLE a (id int PRIMARY KEY)",
                "CREATE TABLE b (id int PRIMARY KEY)",
                "CREATE PUBLICATION inserts_only FOR TABLE b, a WITH (publish = 'insert')");
        try (Connection c = pg.connect(db)) {
            Publication p = Publications.find(c, "inserts_only").orElseThrow();

            assertThat(p.allTables()).isFalse();
            assertThat(p.publishesInsert()).isTrue();
            assertThat(p.publishesTruncate()).isFalse();
            assertThat(p.missingChangeKinds()).containsExactly("update", "delete");
            assertThat(Publications.tables(c, "inserts_only"))
                    .containsExactly(new StreamId("public", "a"), new StreamId("public", "b"));
        }
    }

    @Test
    void publishViaPartitionRootIsReadFromPostgres13On(PostgresCluster pg) throws Exception {
        String db = pg.createDatabase("pubs");
        if (pg.majorVersion() >= 13) {
            pg.execute(db, "CREATE PUBLICATION via_root FOR ALL TABLES WITH (publish_via_partition_root = true)");
        } else {
            pg.execute(db, "CREATE PUBLICATION via_root FOR ALL TABLES");
        }
        try (Connection c = pg.connect(db)) {
            assertThat(Publications.find(c, "via_root").orElseThrow().viaRoot()).isEqualTo(pg.majorVersion() >= 13);
        }
    }

    @Test
    void aRoleThatMayNotCreateForAllTablesGetsTheStatementForASuperuser(PostgresCluster pg) throws Exception {
        String db = pg.createDatabase("pubs");
        String user = "pub_user_" + UUID.randomUUID().toString().replace("-", "").substring(0, 8);
        pg.execute("postgres", "CREATE ROLE " + user + " LOGIN PASSWORD 'pw-pubs'");
        pg.execute(db, "GRANT CREATE ON DATABASE \"" + db + "\" TO " + user);
        try (Connection c = DriverManager.getConnection(pg.jdbcUrl(db), user, "pw-pubs")) {
            assertThatThrownBy(() -> Publications.createForAllTables(c, "flow_publication"))
                    .isInstanceOf(ConnectorException.class)
                    .hasMessageContaining("Not allowed to create publication \"flow_publication\"")
                    .hasMessageContaining("CREATE PUBLICATION \"flow_publication\" FOR ALL TABLES;");
        }
    }
}
