package io.sourcepostgres.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcepostgres.testing.Connector;
import io.sourcepostgres.testing.ConnectorRun;
import io.sourcepostgres.testing.PostgresCluster;
import io.sourcepostgres.testing.PostgresExtension;
import io.sourcepostgres.testing.SshBastion;
import io.sourcepostgres.testing.TestPki;
import io.sourcepostgres.testing.TestPki.Issued;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.KeyPair;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The secret fields of Airbyte's shape — password, ssl_mode.client_key and client_key_password,
 * tunnel_method.ssh_key and tunnel_user_password — never reach stdout or stderr (not the text, not an encoded form,
 * not one line of a key), for check and discover, succeeding and failing, with DEBUG logs (which carry every stack
 * trace). And check names a failure in Airbyte's shape with the same message as in the URI form.
 */
@ExtendWith(PostgresExtension.class)
class AirbyteShapeSecretsIT {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final String PASSWORD = "db-p@ss:w/rd?&%";
    private static final String KEY_PASSWORD = "ck3y#p@ss&%+";

    private static PostgresCluster pg;
    private static String db;
    private static String user;
    private static SshBastion bastion;
    private static KeyPair sshKeyPair;
    private static String sshKey;
    private static String clientKey;
    private static String clientCert;

    @BeforeAll
    static void setUp(PostgresCluster cluster) throws Exception {
        pg = cluster;
        db = pg.createDatabase("absecrets");
        user = "absecret_" + UUID.randomUUID().toString().replace("-", "").substring(0, 8);
        pg.execute(db, "SET password_encryption = 'scram-sha-256'",
                "CREATE ROLE \"" + user + "\" LOGIN REPLICATION PASSWORD '" + PASSWORD + "'",
                "CREATE TABLE orders (id int PRIMARY KEY)", "GRANT SELECT ON orders TO \"" + user + "\"",
                "CREATE PUBLICATION flow_publication FOR ALL TABLES");
        sshKeyPair = SshBastion.ed25519();
        sshKey = SshBastion.openSsh(sshKeyPair);
        bastion = SshBastion.start().authorize(sshKeyPair);
        TestPki pki = TestPki.create();
        Issued client = pki.client("ab-secret-client", user, false);
        clientCert = Files.readString(client.certificate());
        clientKey = Files.readString(pki.encryptedPkcs8Pem(client, KEY_PASSWORD));
    }

    @AfterAll
    static void tearDown() {
        bastion.close();
    }

    private static ObjectNode config() {
        ObjectNode c = MAPPER.createObjectNode();
        c.put("host", "127.0.0.1").put("port", pg.port()).put("database", db).put("username", user)
                .put("password", PASSWORD).put("log_level", "DEBUG");
        c.putObject("ssl_mode").put("mode", "disable");
        return c;
    }

    private static ObjectNode withKeyTunnel(ObjectNode c, String key) {
        c.putObject("tunnel_method").put("tunnel_method", "SSH_KEY_AUTH").put("tunnel_host", "127.0.0.1")
                .put("tunnel_port", bastion.port()).put("tunnel_user", SshBastion.USER).put("ssh_key", key);
        return c;
    }

    private static ObjectNode withPasswordTunnel(ObjectNode c, String password) {
        c.putObject("tunnel_method").put("tunnel_method", "SSH_PASSWORD_AUTH").put("tunnel_host", "127.0.0.1")
                .put("tunnel_port", bastion.port()).put("tunnel_user", SshBastion.USER)
                .put("tunnel_user_password", password);
        return c;
    }

    @Test
    void successesThroughBothTunnelKindsPrintNoSecret() {
        for (ObjectNode c : List.of(withKeyTunnel(config(), sshKey), withPasswordTunnel(config(), SshBastion.PASSWORD))) {
            ConnectorRun check = launchSafely("check", c);
            assertThat(check.connectionStatus().get("status").asText()).as(check.toString()).isEqualTo("SUCCEEDED");
            assertThat(launchSafely("discover", c).catalog()).isNotNull();
        }
    }

    @Test
    void aWrongPasswordGivesTheSameMessageInBothFormsAndThroughTheTunnel() {
        ObjectNode airbyte = config().put("password", "not-" + PASSWORD);
        ObjectNode uri = MAPPER.createObjectNode().put("connectionURI", "postgres://" + user + "@127.0.0.1:" + pg.port()
                + "/" + db + "?sslmode=disable").put("password", "not-" + PASSWORD).put("log_level", "DEBUG");
        String viaAirbyte = launchSafely("check", airbyte).connectionStatus().get("message").asText();
        String viaUri = launchSafely("check", uri).connectionStatus().get("message").asText();
        assertThat(viaAirbyte).contains("Password authentication failed").isEqualTo(viaUri);
        String viaTunnel = launchSafely("check", withKeyTunnel(config().put("password", "not-" + PASSWORD), sshKey))
                .connectionStatus().get("message").asText();
        assertThat(viaTunnel).isEqualTo(viaUri);
        launchSafely("discover", airbyte);
    }

    @Test
    void tunnelFailuresPrintNoSecret() {
        String wrongKey = SshBastion.openSsh(SshBastion.ed25519());
        for (ObjectNode c : List.of(withKeyTunnel(config(), wrongKey), withPasswordTunnel(config(), "not-" + PASSWORD),
                withKeyTunnel(config(), "-----BEGIN OPENSSH PRIVATE KEY-----\n" + PASSWORD + PASSWORD
                        + "\n-----END OPENSSH PRIVATE KEY-----\n"),
                withKeyTunnel(config(), sshKey.replace("\n", "").substring(0, 200)))) {
            launchSafely("check", c, wrongKey, "not-" + PASSWORD);
            launchSafely("discover", c, wrongKey, "not-" + PASSWORD);
        }
    }

    @Test
    void inlineClientKeyAndItsPasswordArePrintedNeitherOnSuccessNorOnFailure() {
        for (String keyPassword : List.of(KEY_PASSWORD, "wrong-" + KEY_PASSWORD)) {
            ObjectNode c = config();
            c.putObject("ssl_mode").put("mode", "require").put("client_certificate", clientCert)
                    .put("client_key", clientKey).put("client_key_password", keyPassword);
            // The server has no TLS: the right password fails on that, the wrong one before, on decrypting the key.
            ConnectorRun run = launchSafely("check", c, "wrong-" + KEY_PASSWORD);
            assertThat(run.connectionStatus().get("status").asText()).isEqualTo("FAILED");
            launchSafely("discover", c, "wrong-" + KEY_PASSWORD);
        }
    }

    @Test
    void configErrorsPrintNoSecret() {
        ObjectNode mixed = withKeyTunnel(config(), sshKey);
        mixed.put("connectionURI", "postgres://u@h/d");
        ObjectNode typo = config();
        typo.putObject("ssl_mode").put("mode", "verify-full").put("client_key", clientKey)
                .put("client_key_password", KEY_PASSWORD);
        ObjectNode badTunnel = withPasswordTunnel(config(), SshBastion.PASSWORD);
        ((ObjectNode) badTunnel.get("tunnel_method")).put("tunnel_port", "twenty-two");
        for (ObjectNode c : List.of(mixed, typo, badTunnel)) {
            for (String command : List.of("check", "discover")) {
                ConnectorRun run = launchSafely(command, c);
                assertThat(run.exitCode()).as(run.toString()).isNotZero();
                assertThat(run.error().get("failure_type").asText()).isEqualTo("config_error");
            }
        }
    }

    // ---- helpers ------------------------------------------------------------------------------------------------

    private static ConnectorRun launchSafely(String command, Object config, String... moreSecrets) {
        ConnectorRun run = Connector.launch(Map.of(), 120, command, "--config", Connector.file(config).toString());
        List<String> secrets = new ArrayList<>(List.of(PASSWORD, KEY_PASSWORD, SshBastion.PASSWORD, sshKey, clientKey));
        secrets.addAll(List.of(moreSecrets));
        for (String secret : secrets) {
            for (String form : forms(secret)) {
                assertThat(run.stdout()).as("stdout holds no form of a secret\n%s", run).doesNotContain(form);
                assertThat(run.stderr()).as("stderr holds no form of a secret\n%s", run).doesNotContain(form);
            }
        }
        assertThat(run.ofType("CONNECTION_STATUS").size() + run.traces("ERROR").size() + run.ofType("CATALOG").size())
                .as("the run ended with a status, a catalog or an error:\n%s", run).isEqualTo(1);
        return run;
    }

    /** The secret, its encoded forms, and every line of a key (a message could quote one line). */
    private static List<String> forms(String secret) {
        List<String> forms = new ArrayList<>(List.of(secret, URLEncoder.encode(secret, StandardCharsets.UTF_8),
                URLEncoder.encode(secret, StandardCharsets.UTF_8).replace("+", "%20"),
                MAPPER.valueToTree(secret).toString()));
        for (String line : secret.split("\n")) {
            if (line.length() >= 16 && !line.startsWith("-----")) {
                forms.add(line);
            }
        }
        return forms;
    }
}
