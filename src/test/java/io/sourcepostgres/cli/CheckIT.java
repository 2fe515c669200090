package io.sourcepostgres.cli;

import static io.sourcepostgres.cli.CheckRuns.PASSWORD;
import static io.sourcepostgres.cli.CheckRuns.check;
import static io.sourcepostgres.cli.CheckRuns.checkRaw;
import static io.sourcepostgres.cli.CheckRuns.config;
import static io.sourcepostgres.cli.CheckRuns.createRole;
import static io.sourcepostgres.cli.CheckRuns.slotExists;
import static io.sourcepostgres.cli.CheckRuns.unique;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcepostgres.testing.ConnectorRun;
import io.sourcepostgres.testing.PostgresCluster;
import io.sourcepostgres.testing.PostgresExtension;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.postgresql.PGConnection;
import org.postgresql.replication.PGReplicationStream;

/** {@code check} against the shared server: one test per way it can fail, and the two ways it succeeds. */
@ExtendWith(PostgresExtension.class)
class CheckIT {
    private final List<String> slots = new ArrayList<>();
    private PostgresCluster cluster;

    @AfterEach
    void dropSlots() throws Exception {
        for (String slot : slots) {
            CheckRuns.dropSlot(cluster, slot);
        }
    }

    // ---- success ------------------------------------------------------------------------------------

    /**
     * Runs check with a deadline of 60 s: a silent server never answers and a dropped SYN is retried for about
     * two minutes, so a check still running then has no connect timeout (the message then says which fired).
     */
    private static JsonNode checkBeforeTcpGivesUp(ObjectNode config) throws Exception {
        CompletableFuture<JsonNode> run = CompletableFuture.supplyAsync(() -> check(config));
        try {
            return run.get(60, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError("check still waits for the connection after 60 s: connect_timeout_seconds was ignored");
        }
    }

    @Test
    void superuserWithDefaultsSucceedsAndCreatesNeitherSlotNorPublication(PostgresCluster pg) throws Exception {
        String db = pg.createDatabase("check");
        pg.execute(db, "CREATE TABLE orders (id int PRIMARY KEY)");
        String slot = unique("slot");
        ObjectNode config = config(pg, "postgres", db);
        config.put("slot_name", slot);

        JsonNode status = check(config);

        assertThat(status.get("status").asText()).as(status.toString()).isEqualTo("SUCCEEDED");
        assertThat(status.get("message").asText())
                .contains("wal_level = logical")
                .contains("'" + slot + "' will be created")
                .contains("\"flow_publication\" will be created FOR ALL TABLES");
        assertThat(slotExists(pg, slot)).as("check created no slot").isFalse();
        try (Connection c = pg.connect(db); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_publication")) {
            rs.next();
            assertThat(rs.getInt(1)).as("check created no publication").isZero();
        }
    }

    @Test
    void leastPrivilegedRoleWithExistingSlotAndPublicationSucceeds(PostgresCluster pg) throws Exception {
        String db = pg.createDatabase("check");
        String user = createRole(pg, "capture", "REPLICATION");
        String slot = unique("slot");
        pg.execute(db,
                "CREATE TABLE orders (id int PRIMARY KEY)",
                "CREATE SCHEMA \"Sales \"\"EU\"\"\"",
                "CREATE TABLE \"Sales \"\"EU\"\"\".\"Line Items\" (id int PRIMARY KEY)",
                "CREATE TABLE unpublished_secret (id int PRIMARY KEY)",
                "CREATE PUBLICATION capture_pub FOR TABLE orders, \"Sales \"\"EU\"\"\".\"Line Items\"",
                "GRANT USAGE ON SCHEMA \"Sales \"\"EU\"\"\" TO \"" + user + "\"",
                "GRANT SELECT ON orders, \"Sales \"\"EU\"\"\".\"Line Items\" TO \"" + user + "\"",
                "SELECT pg_create_logical_replication_slot('" + slot + "', 'pgoutput')");
        slots.add(slot);
        ObjectNode config = config(pg, user, db);
        config.put("slot_name", slot);
        config.put("publication_name", "capture_pub");
        config.put("create_slot", false);
        config.put("create_publication", false);

        JsonNode status = check(config);

        assertThat(status.get("status").asText()).as(status.toString()).isEqualTo("SUCCEEDED");
        assertThat(status.get("message").asText())
                .contains("'" + slot + "' exists (pgoutput)")
                .contains("\"capture_pub\" exists")
                .contains("\"" + user + "\"");
    }

    // ---- before or while connecting ------------------------------------------------------------------

    @Test
    void closedPortFailsWithTheAddressAndWhatToCheck() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        ObjectNode config = rawConfig("postgres://capture@127.0.0.1:" + port + "/appdb?sslmode=disable");

        JsonNode status = check(config);

        assertThat(status.get("status").asText()).isEqualTo("FAILED");
        assertThat(status.get("message").asText())
                .contains("Cannot connect to 127.0.0.1:" + port)
                .contains("Connection refused")
                .contains("Check the host and port in connectionURI");
    }

    @Test
    void serverThatNeverAnswersFailsAtTheConnectTimeout() throws Exception {
        // A listening socket that never accepts: the kernel completes the TCP handshake and then nothing ever
        // answers the startup packet, as with a stuck server or a proxy that swallows traffic.
        try (ServerSocket silent = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            ObjectNode config = rawConfig("postgres://capture@127.0.0.1:" + silent.getLocalPort() + "/appdb");
            config.put("connect_timeout_seconds", 2);

            JsonNode status = checkBeforeTcpGivesUp(config);
            assertThat(status.get("status").asText()).isEqualTo("FAILED");
            assertThat(status.get("message").asText())
                    .contains("127.0.0.1:" + silent.getLocalPort())
                    .contains("timed out after 2 s")
                    .contains("connect_timeout_seconds");
        }
    }

    @Test
    void serverWhoseListenQueueIsFullFailsAtTheConnectTimeout() throws Exception {
        // Once the accept queue is full the kernel drops further SYNs, so the TCP connect itself hangs, as
        // with a firewall that drops packets.
        List<Socket> fillers = new ArrayList<>();
        try (ServerSocket full = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            InetSocketAddress address = new InetSocketAddress(InetAddress.getLoopbackAddress(), full.getLocalPort());
            boolean queueFull = false;
            for (int i = 0; i < 16 && !queueFull; i++) {
                Socket s = new Socket();
                fillers.add(s);
                try {
                    s.connect(address, 500);
                } catch (SocketTimeoutException e) {
                    queueFull = true;
                }
            }
            assertThat(queueFull).as("the listen queue filled up").isTrue();
            ObjectNode config = rawConfig("postgres://capture@127.0.0.1:" + full.getLocalPort() + "/appdb");
            config.put("connect_timeout_seconds", 2);

            JsonNode status = checkBeforeTcpGivesUp(config);
            assertThat(status.get("status").asText()).isEqualTo("FAILED");
            assertThat(status.get("message").asText())
                    .contains("127.0.0.1:" + full.getLocalPort())
                    .contains("timed out after 2 s");
        } finally {
            for (Socket s : fillers) {
                s.close();
            }
        }
    }

    @Test
    void wrongPasswordFailsNamingTheUser(PostgresCluster pg) {
        String user = createRole(pg, "capture", "REPLICATION");
        ObjectNode config = config(pg, user, "postgres");
        config.put("password", PASSWORD + "-wrong");

        JsonNode status = check(config);

        assertThat(status.get("status").asText()).isEqualTo("FAILED");
        assertThat(status.get("message").asText())
                .contains("Password authentication failed for user \"" + user + "\"")
                .contains("Check the password")
                .doesNotContain(PASSWORD);
    }

    @Test
    void passwordInTheUriIsUsedAndNeverPrinted(PostgresCluster pg) {
        String user = createRole(pg, "capture", "REPLICATION");
        ObjectNode config = rawConfig(pg.uri(user, PASSWORD + "x", "postgres"));
        config.remove("password");

        JsonNode status = check(config);

        assertThat(status.get("status").asText()).isEqualTo("FAILED");
        assertThat(status.get("message").asText()).contains("Password authentication failed")
                .doesNotContain(PASSWORD + "x");
    }

    @Test
    void databaseThatDoesNotExistFailsNamingIt(PostgresCluster pg) {
        JsonNode status = check(config(pg, "postgres", "no_such_db"));

        assertThat(status.get("status").asText()).isEqualTo("FAILED");
        assertThat(status.get("message").asText())
                .contains("Database \"no_such_db\" does not exist")
                .contains("Check the database name in connectionURI");
    }

    // ---- the role ----------------------------------------------------------------------------------

    @Test
    void roleWithoutReplicationRightsFailsWithTheAlterRole(PostgresCluster pg) {
        String db = pg.createDatabase("check");
        String user = createRole(pg, "capture", "");
        pg.execute(db, "CREATE TABLE orders (id int PRIMARY KEY)", "CREATE PUBLICATION flow_publication FOR ALL TABLES",
                "GRANT SELECT ON orders TO \"" + user + "\"");

        JsonNode status = check(config(pg, user, db));

        assertThat(status.get("status").asText()).isEqualTo("FAILED");
        assertThat(status.get("message").asText())
                .startsWith("User \"" + user + "\" may not replicate")
                .contains("ALTER ROLE \"" + user + "\" WITH REPLICATION;");
    }

    @Test
    void roleTheCatalogTrustsButTheServerRefusesIsCaughtByOpeningAReplicationConnection(PostgresCluster pg) {
        // On Amazon RDS, rds_replication grants the right to replicate; a vanilla server does not know that role,
        // so only asking the server (a walsender connection) reveals the truth.
        pg.execute("postgres", "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'rds_replication')"
                + " THEN CREATE ROLE rds_replication; END IF; END $$");
        String db = pg.createDatabase("check");
        String user = createRole(pg, "capture", "");
        pg.execute(db, "CREATE PUBLICATION flow_publication FOR ALL TABLES",
                "GRANT rds_replication TO \"" + user + "\"");

        JsonNode status = check(config(pg, user, db));

        assertThat(status.get("status").asText()).isEqualTo("FAILED");
        assertThat(status.get("message").asText())
                .contains("replication connection")
                .contains("ALTER ROLE \"" + user + "\" WITH REPLICATION;");
    }

    // ---- the slot ----------------------------------------------------------------------------------

    @Test
    void missingSlotWithCreateSlotOffFailsWithTheSqlToCreateIt(PostgresCluster pg) {
        String db = pg.createDatabase("check");
        String slot = unique("slot");
        ObjectNode config = config(pg, "postgres", db);
        config.put("slot_name", slot);
        config.put("create_slot", false);

        JsonNode status = check(config);

        assertThat(status.get("status").asText()).isEqualTo("FAILED");
        assertThat(status.get("message").asText())
                .contains("Replication slot '" + slot + "' does not exist and create_slot is off")
                .contains("SELECT pg_create_logical_replication_slot('" + slot + "', 'pgoutput');")
                .contains("\"" + db + "\"");
    }

    @Test
    void slotOfAnotherDatabaseFailsNamingThatDatabase(PostgresCluster pg) throws Exception {
        String other = pg.createDatabase("other");
        String db = pg.createDatabase("check");
        String slot = unique("slot");
        pg.execute(other, "SELECT pg_create_logical_replication_slot('" + slot + "', 'pgoutput')");
        slots.add(slot);
        ObjectNode config = config(pg, "postgres", db);
        config.put("slot_name", slot);

        JsonNode status = check(config);

        assertThat(status.get("status").asText()).isEqualTo("FAILED");
        assertThat(status.get("message").asText())
                .contains("Replication slot '" + slot + "' belongs to database \"" + other + "\", not to \"" + db + "\"")
                .contains("Choose another slot_name")
                .contains("SELECT pg_drop_replication_slot('" + slot + "');");
        assertThat(slotExists(pg, slot)).as("check left the slot alone").isTrue();
    }

    @Test
    void slotOfAnotherPluginFailsNamingThePlugin(PostgresCluster pg) {
        String db = pg.createDatabase("check");
        String slot = unique("slot");
        pg.execute(db, "SELECT pg_create_logical_replication_slot('" + slot + "', 'test_decoding')");
        slots.add(slot);
        ObjectNode config = config(pg, "postgres", db);
        config.put("slot_name", slot);

        JsonNode status = check(config);

        assertThat(status.get("status").asText()).isEqualTo("FAILED");
        assertThat(status.get("message").asText())
                .contains("uses the output plugin 'test_decoding', but the connector reads pgoutput")
                .contains("SELECT pg_drop_replication_slot('" + slot + "');");
    }

    @Test
    void slotHeldByAnotherConnectionFailsWithItsPid(PostgresCluster pg) throws Exception {
        String db = pg.createDatabase("check");
        String slot = unique("slot");
        pg.execute(db, "CREATE PUBLICATION flow_publication FOR ALL TABLES",
                "SELECT pg_create_logical_replication_slot('" + slot + "', 'pgoutput')");
        slots.add(slot);
        ObjectNode config = config(pg, "postgres", db);
        config.put("slot_name", slot);

        JsonNode status;
        int pid;
        try (Connection replication = pg.replicationConnection(db);
                PGReplicationStream stream = replication.unwrap(PGConnection.class).getReplicationAPI()
                        .replicationStream().logical().withSlotName(slot)
                        .withSlotOption("proto_version", "1").withSlotOption("publication_names", "flow_publication")
                        .start()) {
            pid = activePid(pg, slot);
            status = check(config);
        }

        assertThat(status.get("status").asText()).isEqualTo("FAILED");
        assertThat(status.get("message").asText())
                .contains("Replication slot '" + slot + "' is in use by another connection (pid " + pid + ")")
                .contains("another capture may be reading it")
                .contains("SELECT pg_terminate_backend(" + pid + ");");
    }

    // ---- the publication and the tables -----------------------------------------------------------

    @Test
    void missingPublicationWithCreatePublicationOffFailsWithTheCreateStatement(PostgresCluster pg) {
        String db = pg.createDatabase("check");
        ObjectNode config = config(pg, "postgres", db);
        config.put("publication_name", "My Pub");
        config.put("create_publication", false);

        JsonNode status = check(config);

        assertThat(status.get("status").asText()).isEqualTo("FAILED");
        assertThat(status.get("message").asText())
                .contains("Publication \"My Pub\" does not exist and create_publication is off")
                .contains("CREATE PUBLICATION \"My Pub\" FOR ALL TABLES;")
                .contains("FOR TABLE");
    }

    @Test
    void aPublicationViaThePartitionRootFailsNamingWhatItLosesAndTheFix(PostgresCluster pg) {
        String db = pg.createDatabase("check");
        if (pg.majorVersion() < 13) {
            // PostgreSQL 12 has no such option, so no publication can have it.
            assertThatThrownBy(() -> pg.execute(db, "CREATE PUBLICATION via_root FOR ALL TABLES WITH"
                    + " (publish_via_partition_root = true)")).hasMessageContaining("publish_via_partition_root");
            return;
        }
        pg.execute(db, "CREATE PUBLICATION via_root FOR ALL TABLES WITH (publish_via_partition_root = true)");
        ObjectNode config = config(pg, "postgres", db);
        config.put("publication_name", "via_root");

        JsonNode status = check(config);

        assertThat(status.get("status").asText()).isEqualTo("FAILED");
        assertThat(status.get("message").asText())
                .contains("TRUNCATE of a single partition")
                .contains("ALTER PUBLICATION \"via_root\" SET (publish_via_partition_root = false);");
        if (pg.majorVersion() >= 14) {
            assertThat(status.get("message").asText()).contains("DETACH PARTITION ... CONCURRENTLY").contains("crashes");
        }
    }

    @Test
    void missingPublicationThatTheRoleMayNotCreateFails(PostgresCluster pg) {
        String db = pg.createDatabase("check");
        String user = createRole(pg, "capture", "REPLICATION");

        JsonNode status = check(config(pg, user, db));

        assertThat(status.get("status").asText()).isEqualTo("FAILED");
        assertThat(status.get("message").asText())
                .contains("Publication \"flow_publication\" does not exist, and user \"" + user + "\" may not create it")
                .contains("needs a superuser")
                .contains("CREATE PUBLICATION \"flow_publication\" FOR ALL TABLES;");
    }

    @Test
    void publishedTablesTheRoleMayNotReadFailWithTheGrants(PostgresCluster pg) {
        String db = pg.createDatabase("check");
        String user = createRole(pg, "capture", "REPLICATION");
        pg.execute(db,
                "CREATE TABLE orders (id int PRIMARY KEY)",
                "CREATE TABLE customers (id int PRIMARY KEY)",
                "CREATE SCHEMA \"Weird \"\"Schema\"\"\"",
                "CREATE TABLE \"Weird \"\"Schema\"\"\".\"Mixed Case\" (id int PRIMARY KEY)",
                "CREATE PUBLICATION flow_publication FOR ALL TABLES",
                "GRANT SELECT ON customers TO \"" + user + "\"",
                "GRANT SELECT ON \"Weird \"\"Schema\"\"\".\"Mixed Case\" TO \"" + user + "\"");

        JsonNode status = check(config(pg, user, db));

        assertThat(status.get("status").asText()).isEqualTo("FAILED");
        assertThat(status.get("message").asText())
                .startsWith("User \"" + user + "\" cannot read 2 published tables")
                .contains("\"public\".\"orders\" (no SELECT)")
                .contains("\"Weird \"\"Schema\"\"\".\"Mixed Case\" (no USAGE on its schema)")
                .contains("GRANT SELECT ON \"public\".\"orders\" TO \"" + user + "\";")
                .contains("GRANT USAGE ON SCHEMA \"Weird \"\"Schema\"\"\" TO \"" + user + "\";")
                .doesNotContain("customers");
    }

    @Test
    void rowLevelSecurityThatHidesRowsFails(PostgresCluster pg) {
        String db = pg.createDatabase("check");
        String user = createRole(pg, "capture", "REPLICATION");
        pg.execute(db,
                "CREATE TABLE orders (id int PRIMARY KEY, region text)",
                "ALTER TABLE orders ENABLE ROW LEVEL SECURITY",
                "CREATE POLICY eu_only ON orders FOR SELECT USING (region = 'eu')",
                "CREATE PUBLICATION flow_publication FOR TABLE orders",
                "GRANT SELECT ON orders TO \"" + user + "\"");

        JsonNode status = check(config(pg, user, db));

        assertThat(status.get("status").asText()).isEqualTo("FAILED");
        assertThat(status.get("message").asText())
                .contains("Row-level security policies hide rows of 1 published table")
                .contains("\"public\".\"orders\"")
                .contains("ALTER ROLE \"" + user + "\" BYPASSRLS;");
    }

    @Test
    void publicationThatLeavesOutUpdatesAndDeletesFails(PostgresCluster pg) {
        String db = pg.createDatabase("check");
        pg.execute(db, "CREATE PUBLICATION flow_publication FOR ALL TABLES WITH (publish = 'insert')");

        JsonNode status = check(config(pg, "postgres", db));

        assertThat(status.get("status").asText()).isEqualTo("FAILED");
        assertThat(status.get("message").asText())
                .contains("does not publish update, delete changes")
                .contains("ALTER PUBLICATION \"flow_publication\" SET (publish = 'insert, update, delete');");
    }

    @Test
    void everyProblemIsReportedNotOnlyTheFirst(PostgresCluster pg) {
        String db = pg.createDatabase("check");
        String user = createRole(pg, "capture", "");
        String slot = unique("slot");
        ObjectNode config = config(pg, user, db);
        config.put("slot_name", slot);
        config.put("create_slot", false);
        config.put("create_publication", false);

        JsonNode status = check(config);

        assertThat(status.get("status").asText()).isEqualTo("FAILED");
        assertThat(status.get("message").asText())
                .startsWith("3 problems must be fixed before a capture can start: (1) ")
                .contains("ALTER ROLE \"" + user + "\" WITH REPLICATION;")
                .contains("(2) Replication slot '" + slot + "' does not exist and create_slot is off")
                .contains("(3) Publication \"flow_publication\" does not exist and create_publication is off");
    }

    // ---- configuration errors: TRACE ERROR and a non-zero exit, like every command -------------------

    @Test
    void malformedConfigJsonIsAConfigError() {
        ConnectorRun run = checkRaw("{\"connectionURI\": \"postgres://u@h/d\", \"password\": \"" + PASSWORD + "\"");

        assertConfigError(run, "is not valid JSON");
    }

    @Test
    void configViolatingTheSpecIsAConfigError() {
        ConnectorRun run = checkRaw("{\"connectionURI\": \"postgres://u@h/d\", \"password\": \"" + PASSWORD + "\","
                + " \"slot_name\": \"Bad-Slot\", \"create_slot\": \"yes\", \"colour\": 1}");

        assertConfigError(run, "does not match the connector's spec");
        assertThat(run.error().get("message").asText())
                .contains("'slot_name' must match")
                .contains("'create_slot' must be true or false")
                .contains("'colour' is not a known setting");
    }

    @Test
    void uriWithAnUnencodedPasswordIsAConfigErrorWithoutThePassword() {
        ConnectorRun run = checkRaw("{\"connectionURI\": \"postgres://capture:" + PASSWORD + "/x@h/d\"}");

        assertConfigError(run, "percent-encode");
        assertThat(run.stdout()).doesNotContain("Zq8");
    }

    @Test
    void missingConfigFileIsAConfigError() throws Exception {
        Path missing = Files.createTempDirectory("check").resolve("absent.json");
        ConnectorRun run = io.sourcepostgres.testing.Connector.run("check", "--config", missing.toString());
        CheckRuns.assertNoPassword(run);

        assertConfigError(run, "does not exist");
        assertThat(run.error().get("message").asText()).contains(missing.toString());
    }

    // ---- helpers ---------------------------------------------------------------------------------------

    private static void assertConfigError(ConnectorRun run, String messagePart) {
        assertThat(run.exitCode()).as(run.toString()).isNotZero();
        assertThat(run.ofType("CONNECTION_STATUS")).as(run.toString()).isEmpty();
        JsonNode error = run.error();
        assertThat(error.get("failure_type").asText()).isEqualTo("config_error");
        assertThat(error.get("message").asText()).contains(messagePart);
    }

    private static ObjectNode rawConfig(String uri) {
        ObjectNode config = new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode();
        config.put("connectionURI", uri);
        config.put("password", PASSWORD);
        return config;
    }

    private static int activePid(PostgresCluster pg, String slot) throws Exception {
        try (Connection c = pg.connect(); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT active, active_pid FROM pg_replication_slots"
                        + " WHERE slot_name = '" + slot + "'")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getBoolean(1)).as("the test holds the slot").isTrue();
            return rs.getInt(2);
        }
    }

    @org.junit.jupiter.api.BeforeEach
    void rememberCluster(PostgresCluster pg) {
        this.cluster = pg;
    }
}
