package io.sourcepostgres.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcepostgres.testing.Connector;
import io.sourcepostgres.testing.ConnectorRun;
import io.sourcepostgres.testing.PostgresCluster;
import io.sourcepostgres.testing.PostgresExtension;
import io.sourcepostgres.testing.TestPki;
import io.sourcepostgres.testing.TestPki.Issued;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Passwords never leave the process: every byte the real launcher writes to stdout and stderr, for spec, check and
 * discover, succeeding and failing (with DEBUG logs and stack traces), holds neither the password nor its
 * percent-encoded forms. The password has every character that URIs, JSON and shells treat specially.
 */
@ExtendWith(PostgresExtension.class)
class SecretsIT {
    static final String PASSWORD = "p@ss:w/rd?&%";
    static final String KEY_PASSWORD = "k3y#p@ss&%+";
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private static PostgresCluster pg;
    private static String db;
    private static String user;

    @BeforeAll
    static void role(PostgresCluster cluster) {
        pg = cluster;
        db = pg.createDatabase("secrets");
        user = "secret_" + UUID.randomUUID().toString().replace("-", "").substring(0, 8);
        pg.execute(db,
                "SET password_encryption = 'scram-sha-256'",
                "CREATE ROLE \"" + user + "\" LOGIN REPLICATION PASSWORD '" + PASSWORD + "'",
                "CREATE TABLE orders (id int PRIMARY KEY)",
                "GRANT SELECT ON orders TO \"" + user + "\"",
                "CREATE PUBLICATION flow_publication FOR ALL TABLES");
    }

    @Test
    void scramSha256RoleWithSpecialCharactersConnects() throws Exception {
        try (var c = pg.connect(); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT rolpassword FROM pg_authid WHERE rolname = '" + user + "'")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).as("stored as a SCRAM verifier").startsWith("SCRAM-SHA-256$4096:");
        }
        ObjectNode viaSetting = config(uri(user, null, pg.port(), db, ""));
        viaSetting.put("password", PASSWORD);
        ObjectNode viaUri = config(uri(user, PASSWORD, pg.port(), db, ""));

        for (ObjectNode config : List.of(viaSetting, viaUri)) {
            ConnectorRun run = launchSafely("check", config);
            assertThat(run.connectionStatus().get("status").asText()).as(run.toString()).isEqualTo("SUCCEEDED");
        }
    }

    @Test
    void nonAsciiPasswordIsNormalizedByScram() {
        String unicodeUser = user + "_u";
        String unicode = "pässwörd-Ω-\u00A0-密码";
        pg.execute(db, "SET password_encryption = 'scram-sha-256'",
                "CREATE ROLE \"" + unicodeUser + "\" LOGIN REPLICATION PASSWORD '" + unicode + "'",
                "GRANT SELECT ON orders TO \"" + unicodeUser + "\"");
        ObjectNode config = config(uri(unicodeUser, null, pg.port(), db, ""));
        config.put("password", unicode);

        ConnectorRun run = Connector.run("check", "--config", Connector.file(config).toString());

        assertThat(run.connectionStatus().get("status").asText()).as(run.toString()).isEqualTo("SUCCEEDED");
        assertThat(run.stdout()).doesNotContain(unicode);
    }

    @Test
    void specPrintsNoSecret() {
        ConnectorRun run = Connector.launch(60, "spec");
        assertThat(run.exitCode()).isZero();
        assertNoSecret(run);
    }

    @Test
    void wrongPasswordInTheSettingAndInTheUri() {
        String other = user + "_other";
        pg.execute(db, "CREATE ROLE \"" + other + "\" LOGIN PASSWORD 'the-real-one'");
        ObjectNode viaSetting = debug(config(uri(other, null, pg.port(), db, "")));
        viaSetting.put("password", PASSWORD);
        ObjectNode viaUri = debug(config(uri(other, PASSWORD, pg.port(), db, "")));

        for (ObjectNode config : List.of(viaSetting, viaUri)) {
            ConnectorRun check = launchSafely("check", config);
            assertThat(check.connectionStatus().get("message").asText()).contains("Password authentication failed");
            launchSafely("discover", config);
        }
    }

    @Test
    void unreachableAndUnknownHosts() throws Exception {
        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        ObjectNode refused = debug(config(uri(user, PASSWORD, closed, db, "")));
        ObjectNode unknown = debug(config("postgres://" + user + ":" + enc(PASSWORD) + "@no-such-host.invalid:5432/" + db));

        assertThat(launchSafely("check", refused).connectionStatus().get("message").asText()).contains("Cannot connect");
        assertThat(launchSafely("check", unknown).connectionStatus().get("message").asText()).contains("Cannot resolve");
        launchSafely("discover", refused);
        launchSafely("discover", unknown);
    }

    @Test
    void databaseThatDoesNotExist() {
        ObjectNode config = debug(config(uri(user, PASSWORD, pg.port(), "no_such_db", "")));
        assertThat(launchSafely("check", config).connectionStatus().get("message").asText())
                .contains("\"no_such_db\" does not exist");
        launchSafely("discover", config);
    }

    @Test
    void badUrisWithThePasswordWrittenRaw() {
        String at = "@127.0.0.1:" + pg.port() + "/" + db;
        for (String bad : List.of(
                "postgres://" + user + ":" + PASSWORD + at,                              // unencoded '@', '/', '?'
                "postgres://" + user + at + "?password=" + PASSWORD,                     // unencoded '&', '%'
                "postgres://" + user + ":" + enc(PASSWORD) + "@127.0.0.1:port/" + db,     // bad port
                "postgres://" + user + ":" + enc(PASSWORD) + at + "?sslmode=sometimes",  // bad sslmode
                "postgres://" + user + ":" + enc(PASSWORD) + at + "?passfile=x",         // unsupported parameter
                "mysql://" + user + ":" + PASSWORD + at)) {                              // wrong scheme
            ObjectNode config = debug(MAPPER.createObjectNode());
            config.put("connectionURI", bad);
            for (String command : List.of("check", "discover")) {
                ConnectorRun run = launchSafely(command, config);
                assertThat(run.exitCode()).as(bad + "\n" + run).isNotZero();
                assertThat(run.error().get("failure_type").asText()).isEqualTo("config_error");
            }
        }
    }

    @Test
    void configsThatViolateTheSpecOrAreNotJson() {
        ObjectNode badSlot = debug(config(uri(user, PASSWORD, pg.port(), db, "")));
        badSlot.put("password", PASSWORD);
        badSlot.put("slot_name", "Not A Valid Slot!");
        ObjectNode typo = config(uri(user, null, pg.port(), db, ""));
        typo.put("passwrd", PASSWORD); // unknown key: its value must not be echoed either
        ObjectNode numberPassword = config(uri(user, null, pg.port(), db, ""));
        numberPassword.putArray("password").add(PASSWORD);
        String notJson = "{\"connectionURI\": \"" + uri(user, PASSWORD, pg.port(), db, "") + "\", \"password\": \""
                + PASSWORD + "\",,}";

        for (Object config : List.of(badSlot, typo, numberPassword, notJson)) {
            for (String command : List.of("check", "discover")) {
                ConnectorRun run = launchSafely(command, config);
                assertThat(run.exitCode()).as(run.toString()).isNotZero();
                assertThat(run.error().get("failure_type").asText()).isEqualTo("config_error");
            }
        }
    }

    @Test
    void sslpasswordIsASecretToo() {
        TestPki pki = TestPki.create();
        Issued client = pki.client("secret-client", user, false);
        String key = pki.encryptedPkcs8Pem(client, KEY_PASSWORD).toString();
        for (String sslpassword : List.of(KEY_PASSWORD, "wrong-" + KEY_PASSWORD)) {
            ObjectNode config = debug(config(uri(user, PASSWORD, pg.port(), db, "sslmode=require&sslcert="
                    + enc(client.certificate()) + "&sslkey=" + enc(key) + "&sslpassword=" + enc(sslpassword))));
            // The shared server has no TLS: the first run fails on that, the second on the wrong key password.
            JsonNode status = launchSafely("check", config).connectionStatus();
            assertThat(status.get("status").asText()).isEqualTo("FAILED");
            launchSafely("discover", config);
        }
    }

    // ---- helpers ------------------------------------------------------------------------------------------------

    /** Runs the real launcher and asserts that no secret is in any byte of stdout or stderr. */
    private static ConnectorRun launchSafely(String command, Object config) {
        ConnectorRun run = Connector.launch(Map.of(), 120, command, "--config", Connector.file(config).toString());
        assertNoSecret(run);
        assertThat(run.ofType("CONNECTION_STATUS").size() + run.traces("ERROR").size() + run.ofType("CATALOG").size())
                .as("the run ended with a status, a catalog or an error:\n%s", run).isEqualTo(1);
        return run;
    }

    private static void assertNoSecret(ConnectorRun run) {
        for (String secret : List.of(PASSWORD, KEY_PASSWORD)) {
            for (String form : List.of(secret, enc(secret), URLEncoder.encode(secret, StandardCharsets.UTF_8),
                    enc(secret).toLowerCase(java.util.Locale.ROOT))) {
                assertThat(run.stdout()).as("stdout holds no form of a secret").doesNotContain(form);
                assertThat(run.stderr()).as("stderr holds no form of a secret").doesNotContain(form);
            }
        }
    }

    private static ObjectNode config(String uri) {
        ObjectNode config = MAPPER.createObjectNode();
        config.put("connectionURI", uri);
        return config;
    }

    /** DEBUG logs carry the stack traces of every failure. */
    private static ObjectNode debug(ObjectNode config) {
        config.put("log_level", "DEBUG");
        return config;
    }

    /** A URI with {@code query} as its parameters, {@code sslmode=disable} when empty. */
    private static String uri(String user, String password, int port, String database, String query) {
        return "postgres://" + enc(user) + (password == null ? "" : ":" + enc(password)) + "@127.0.0.1:" + port + "/"
                + enc(database) + "?" + (query.isEmpty() ? "sslmode=disable" : query);
    }

    private static String enc(Object s) {
        return URLEncoder.encode(String.valueOf(s), StandardCharsets.UTF_8).replace("+", "%20");
    }
}
