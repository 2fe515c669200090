package io.sourcepostgres.cli;

import static io.sourcepostgres.testing.TlsCluster.CERT_USER;
import static io.sourcepostgres.testing.TlsCluster.PASSWORD;
import static io.sourcepostgres.testing.TlsCluster.PASSWORD_USER;
import static io.sourcepostgres.testing.TlsCluster.enc;
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
import io.sourcepostgres.testing.TlsCluster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code check} against a server that accepts only TLS, for every sslmode, with and without the right CA, host
 * name and client certificate. A SUCCEEDED check has opened a query connection and then a replication connection
 * (the replication probe runs once every prerequisite holds), so each success proves both connection kinds.
 */
@ExtendWith(PostgresExtension.class)
class TlsIT {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final String KEY_PASSWORD = "k3y:p@ss/w&rd%";
    private static TlsCluster tls;
    private static TestPki pki;
    private static Issued certUser;

    private String db;

    @BeforeAll
    static void startTlsServer() {
        tls = TlsCluster.start();
        pki = tls.pki();
        certUser = pki.client("tls-cert-user", CERT_USER, false);
    }

    @AfterAll
    static void stopTlsServer() {
        tls.close();
    }

    @BeforeEach
    void database() {
        db = tls.database();
    }

    // ---- verify-full / verify-ca --------------------------------------------------------------------------------

    @Test
    void verifyFullWithTheRightCaAndHostSucceeds() {
        assertSucceeded(checkAsPasswordUser("localhost", "sslmode=verify-full&sslrootcert=" + enc(pki.caCertificate())));
    }

    @Test
    void verifyFullRefusesAServerCertificateFromAnotherCa() {
        JsonNode status = checkAsPasswordUser("localhost",
                "sslmode=verify-full&sslrootcert=" + enc(pki.otherCaCertificate()));
        assertFailed(status, "The server's certificate (subject CN=localhost, issued by CN=source-postgres Test Root CA)"
                + " is not trusted: it was not issued by any CA in sslrootcert " + pki.otherCaCertificate(),
                "Give sslrootcert the certificate of the CA that issued the server's certificate");
    }

    @Test
    void verifyFullRefusesAHostTheCertificateDoesNotName() {
        JsonNode status = checkAsPasswordUser("127.0.0.1",
                "sslmode=verify-full&sslrootcert=" + enc(pki.caCertificate()));
        assertFailed(status, "The server's certificate does not name the host '127.0.0.1' that connectionURI connects"
                + " to; it names DNS:localhost, CN=localhost", "sslmode=verify-ca");
    }

    @Test
    void verifyCaChecksTheCaButNotTheHostName() {
        assertSucceeded(checkAsPasswordUser("127.0.0.1", "sslmode=verify-ca&sslrootcert=" + enc(pki.caCertificate())));
        assertFailed(checkAsPasswordUser("127.0.0.1", "sslmode=verify-ca&sslrootcert=" + enc(pki.otherCaCertificate())),
                "is not trusted: it was not issued by any CA in sslrootcert " + pki.otherCaCertificate());
    }

    @Test
    void verifyFullWithoutAnyCaSaysToGiveSslrootcert() {
        assertFailed(checkAsPasswordUser("localhost", "sslmode=verify-full"),
                "sslmode=verify-full verifies the server's certificate", "add sslrootcert=/path/to/ca.crt");
    }

    @Test
    void sslrootcertThatDoesNotExistIsNamed() {
        Path missing = pki.dir().resolve("no-such-ca.crt");
        assertFailed(checkAsPasswordUser("localhost", "sslmode=verify-full&sslrootcert=" + enc(missing)),
                "sslrootcert file " + missing + " does not exist");
    }

    @Test
    void systemRootsOfTheJavaRuntimeDoNotHoldATestCa() {
        assertFailed(checkAsPasswordUser("localhost", "sslrootcert=system"),
                "is not trusted: it was not issued by any CA in the CAs the Java runtime trusts (sslrootcert=system)");
        assertFailed(checkAsPasswordUser("localhost", "sslrootcert=system&sslmode=require"),
                "sslrootcert=system may only be used with sslmode=verify-full");
    }

    // ---- require / prefer / allow / disable ---------------------------------------------------------------------

    @Test
    void requireEncryptsWithoutACa() {
        assertSucceeded(checkAsPasswordUser("127.0.0.1", "sslmode=require"));
    }

    @Test
    void requireWithARootCertificateVerifiesTheChainLikeLibpq() {
        assertSucceeded(checkAsPasswordUser("127.0.0.1", "sslmode=require&sslrootcert=" + enc(pki.caCertificate())));
        assertFailed(checkAsPasswordUser("127.0.0.1", "sslmode=require&sslrootcert=" + enc(pki.otherCaCertificate())),
                "is not trusted");
    }

    @Test
    void preferAndAllowReachAServerThatAcceptsOnlyTls() {
        assertSucceeded(checkAsPasswordUser("localhost", ""));
        assertSucceeded(checkAsPasswordUser("localhost", "sslmode=prefer"));
        assertSucceeded(checkAsPasswordUser("localhost", "sslmode=allow"));
    }

    @Test
    void disableIsRefusedByAServerThatAcceptsOnlyTls() {
        assertFailed(checkAsPasswordUser("127.0.0.1", "sslmode=disable"),
                "accepts only TLS connections from this host", "sslmode=disable",
                "Use sslmode=verify-full with sslrootcert");
    }

    @Test
    void requireAgainstAServerWithoutTlsSaysSo(PostgresCluster plain) {
        String plainDb = plain.createDatabase("notls");
        ObjectNode config = MAPPER.createObjectNode();
        config.put("connectionURI", "postgres://postgres@127.0.0.1:" + plain.port() + "/" + plainDb + "?sslmode=require");
        assertFailed(CheckRuns.check(config), "does not accept TLS connections, but sslmode=require requires TLS",
                "ssl = on");
        config.put("connectionURI", "postgres://postgres@127.0.0.1:" + plain.port() + "/" + plainDb + "?sslmode=prefer");
        assertSucceeded(CheckRuns.check(config));
    }

    // ---- client certificates ------------------------------------------------------------------------------------

    static Stream<Arguments> clientKeyForms() {
        return Stream.of(
                Arguments.of("PKCS#8 PEM", (Function<Issued, String>) c -> "sslkey=" + enc(c.key())),
                Arguments.of("PKCS#1 PEM", (Function<Issued, String>) c -> "sslkey=" + enc(pki.pkcs1Pem(c))),
                Arguments.of("encrypted PKCS#8 PEM", (Function<Issued, String>) c ->
                        "sslkey=" + enc(pki.encryptedPkcs8Pem(c, KEY_PASSWORD)) + "&sslpassword=" + enc(KEY_PASSWORD)),
                Arguments.of("PKCS#8 DER .pk8", (Function<Issued, String>) c -> "sslkey=" + enc(pki.pk8(c))),
                Arguments.of("encrypted PKCS#8 DER .pk8", (Function<Issued, String>) c ->
                        "sslkey=" + enc(pki.encryptedPk8(c, KEY_PASSWORD)) + "&sslpassword=" + enc(KEY_PASSWORD)),
                Arguments.of("PKCS#12 .p12", (Function<Issued, String>) c ->
                        "sslkey=" + enc(pki.p12(c, KEY_PASSWORD)) + "&sslpassword=" + enc(KEY_PASSWORD)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("clientKeyForms")
    void clientCertificateAuthenticatesInEveryKeyForm(String form, Function<Issued, String> key) {
        JsonNode status = checkAsCertUser("localhost", "sslmode=verify-full&sslrootcert=" + enc(pki.caCertificate())
                + "&sslcert=" + enc(certUser.certificate()) + "&" + key.apply(certUser));
        assertSucceeded(status);
    }

    @Test
    void ecClientCertificateAuthenticates() {
        Issued ec = pki.ecClient("tls-cert-ec", CERT_USER);
        assertSucceeded(checkAsCertUser("localhost", "sslmode=require&sslcert=" + enc(ec.certificate())
                + "&sslkey=" + enc(ec.key())));
    }

    @Test
    void withoutAClientCertificateTheServerRefusesAndTheMessageSaysWhatToGive() {
        assertFailed(checkAsCertUser("localhost", "sslmode=verify-full&sslrootcert=" + enc(pki.caCertificate())),
                "requires a client certificate for user \"" + CERT_USER + "\"", "add sslcert=/path/to/client.crt and"
                + " sslkey=/path/to/client.key");
    }

    @Test
    void clientCertificateFromAnotherCaIsRefused() {
        Issued stranger = pki.client("tls-cert-stranger", CERT_USER, true);
        // The refusal races the end of the client's TLS 1.3 handshake: it shows as the server's alert or as a broken
        // pipe. Several attempts meet both; each must give the same message.
        for (int attempt = 0; attempt < 6; attempt++) {
            assertFailed(checkAsCertUser("localhost", "sslmode=require&sslcert=" + enc(stranger.certificate())
                            + "&sslkey=" + enc(stranger.key())),
                    "ended the TLS handshake after the connector presented the client certificate "
                            + stranger.certificate(), "the server did not accept it", "ssl_ca_file");
        }
    }

    @Test
    void clientCertificateOfAnotherUserIsRefused() {
        Issued other = pki.client("tls-cert-other", "someone_else", false);
        assertFailed(checkAsCertUser("localhost", "sslmode=require&sslcert=" + enc(other.certificate())
                        + "&sslkey=" + enc(other.key())),
                "refused the client certificate for user \"" + CERT_USER + "\": its CN must be the user name");
    }

    @Test
    void keyProblemsAreNamedBeforeConnecting() {
        Path encrypted = pki.encryptedPkcs8Pem(certUser, KEY_PASSWORD);
        String base = "sslmode=require&sslcert=" + enc(certUser.certificate()) + "&sslkey=";
        assertFailed(checkAsCertUser("localhost", base + enc(encrypted)), "is encrypted: give its passphrase as sslpassword");
        assertFailed(checkAsCertUser("localhost", base + enc(encrypted) + "&sslpassword=wrong-one"),
                "cannot be decrypted with the given sslpassword");
        Path legacy = pki.legacyEncryptedPkcs1Pem(certUser, KEY_PASSWORD);
        assertFailed(checkAsCertUser("localhost", base + enc(legacy) + "&sslpassword=" + enc(KEY_PASSWORD)),
                "legacy format", "openssl pkcs8 -topk8 -v2 aes-256-cbc -in " + legacy);
    }

    // ---- what a launched process finds in its environment ----------------------------------------------------

    @Test
    void libpqDefaultFilesUnderHomeAreUsed(@TempDir Path home) throws IOException {
        Path dir = Files.createDirectories(home.resolve(".postgresql"));
        Files.copy(pki.caCertificate(), dir.resolve("root.crt"));
        Files.copy(certUser.certificate(), dir.resolve("postgresql.crt"));
        Files.copy(pki.pkcs1Pem(certUser), dir.resolve("postgresql.key"));
        ObjectNode config = MAPPER.createObjectNode();
        config.put("connectionURI", tls.uri(CERT_USER, "localhost", db, "sslmode=verify-full"));

        ConnectorRun run = Connector.launch(Map.of("HOME", home.toString()), 120,
                "check", "--config", Connector.file(config).toString());

        assertSucceeded(run.connectionStatus());
    }

    @Test
    void sslrootcertSystemTrustsTheJavaRuntimesTrustStore() {
        Path store = pki.trustStore("changeit");
        Map<String, String> env = Map.of("SOURCE_POSTGRES_JAVA_OPTS", "-Xmx256m -Djavax.net.ssl.trustStore=" + store
                + " -Djavax.net.ssl.trustStorePassword=changeit -Djavax.net.ssl.trustStoreType=PKCS12");
        ObjectNode config = MAPPER.createObjectNode();
        config.put("password", PASSWORD);

        config.put("connectionURI", tls.uri(PASSWORD_USER, "localhost", db, "sslrootcert=system"));
        assertSucceeded(Connector.launch(env, 120, "check", "--config", Connector.file(config).toString())
                .connectionStatus());

        config.put("connectionURI", tls.uri(PASSWORD_USER, "127.0.0.1", db, "sslrootcert=system"));
        assertFailed(Connector.launch(env, 120, "check", "--config", Connector.file(config).toString())
                .connectionStatus(), "does not name the host '127.0.0.1'");
    }

    // ---- helpers ------------------------------------------------------------------------------------------------

    private JsonNode checkAsPasswordUser(String host, String query) {
        ObjectNode config = MAPPER.createObjectNode();
        config.put("connectionURI", tls.uri(PASSWORD_USER, host, db, query));
        config.put("password", PASSWORD);
        return check(config);
    }

    private JsonNode checkAsCertUser(String host, String query) {
        ObjectNode config = MAPPER.createObjectNode();
        config.put("connectionURI", tls.uri(CERT_USER, host, db, query));
        return check(config);
    }

    private static JsonNode check(ObjectNode config) {
        ConnectorRun run = Connector.run("check", "--config", Connector.file(config).toString());
        assertThat(run.exitCode()).as(run.toString()).isZero();
        assertThat(run.ofType("TRACE")).as(run.toString()).isEmpty();
        assertThat(run.stdout()).doesNotContain(PASSWORD).doesNotContain(KEY_PASSWORD).doesNotContain(enc(KEY_PASSWORD));
        return run.connectionStatus();
    }

    private static void assertSucceeded(JsonNode status) {
        assertThat(status.get("status").asText()).as(status.toString()).isEqualTo("SUCCEEDED");
    }

    private static void assertFailed(JsonNode status, String... fragments) {
        assertThat(status.get("status").asText()).as(status.toString()).isEqualTo("FAILED");
        assertThat(status.get("message").asText()).contains(fragments);
    }
}
