package io.sourcepostgres.postgres.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sourcepostgres.airbyte.ConnectorException;
import io.sourcepostgres.airbyte.FailureType;
import io.sourcepostgres.config.ConnectionUri;
import io.sourcepostgres.testing.TestPki;
import io.sourcepostgres.testing.TestPki.Issued;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.PGProperty;

/** libpq's parameters and default files, resolved into what every TLS connection uses. */
class TlsSettingsTest {
    private static TestPki pki;
    private static Issued client;

    @TempDir
    Path home;

    @BeforeAll
    static void makePki() {
        pki = TestPki.create();
        client = pki.client("capture", "capture", false);
    }

    @Test
    void defaultIsPreferWithoutVerificationWhenNoRootFileExists() {
        TlsSettings tls = resolve("");
        assertThat(tls.mode()).isEqualTo(TlsMode.PREFER);
        assertThat(tls.rootCertificates()).isNull();
        assertThat(tls.clientCertificate()).isNull();
        assertThat(tls.sslContext()).isNotNull();
    }

    @Test
    void libpqDefaultFilesAreUsedWhenPresent() throws IOException {
        Path dir = Files.createDirectories(home.resolve(".postgresql"));
        Files.copy(pki.caCertificate(), dir.resolve("root.crt"));
        Files.copy(client.certificate(), dir.resolve("postgresql.crt"));
        Files.copy(client.key(), dir.resolve("postgresql.key"));

        TlsSettings tls = resolve("?sslmode=verify-full");

        assertThat(tls.rootCertificates()).isEqualTo(dir.resolve("root.crt"));
        assertThat(tls.clientCertificate()).isEqualTo(dir.resolve("postgresql.crt"));
        assertThat(tls.clientKey()).isEqualTo(dir.resolve("postgresql.key"));
        assertThat(tls.sslContext()).isNotNull();
    }

    @Test
    void pgjdbcDefaultKeyFileIsTheFallback() throws IOException {
        Path dir = Files.createDirectories(home.resolve(".postgresql"));
        Files.copy(client.certificate(), dir.resolve("postgresql.crt"));
        Files.copy(pki.pk8(client), dir.resolve("postgresql.pk8"));

        assertThat(resolve("?sslmode=require").clientKey()).isEqualTo(dir.resolve("postgresql.pk8"));
    }

    @Test
    void verifyWithoutAnyRootCertificateSaysToGiveSslrootcert() {
        for (String mode : new String[] {"verify-ca", "verify-full"}) {
            assertConfigError("?sslmode=" + mode, "sslmode=" + mode + " verifies the server's certificate",
                    "sslrootcert=/path/to/ca.crt", "sslrootcert=system", home.resolve(".postgresql/root.crt") + " does not exist");
        }
    }

    @Test
    void systemRootsDefaultToVerifyFullAndRefuseWeakerModes() {
        TlsSettings tls = resolve("?sslrootcert=system");
        assertThat(tls.mode()).isEqualTo(TlsMode.VERIFY_FULL);
        assertThat(tls.systemRoots()).isTrue();
        assertThat(tls.sslContext()).isNotNull();
        assertConfigError("?sslrootcert=system&sslmode=require", "sslrootcert=system may only be used with sslmode=verify-full");
        assertConfigError("?sslrootcert=system&sslmode=verify-ca", "sslrootcert=system may only be used with sslmode=verify-full");
    }

    @Test
    void explicitFilesMustExistEvenWhereLibpqWouldSkipThem() {
        Path missing = home.resolve("nope.crt");
        assertContextError("?sslmode=require&sslrootcert=" + missing, "sslrootcert file " + missing + " does not exist");
        assertContextError("?sslmode=require&sslcert=" + missing + "&sslkey=" + client.key(),
                "sslcert file " + missing + " does not exist");
    }

    @Test
    void certificateWithoutKeyAndKeyWithoutCertificateAreNamed() {
        assertConfigError("?sslcert=" + client.certificate(), "has no private key", "sslkey=/path/to/client.key");
        assertConfigError("?sslkey=" + client.key(), "sslkey is given without sslcert");
    }

    @Test
    void disableIgnoresEveryFile() {
        TlsSettings tls = resolve("?sslmode=disable&sslrootcert=/nowhere&sslcert=/nowhere&sslkey=/nowhere");
        Properties p = new Properties();
        tls.applyTo(p);
        assertThat(p.stringPropertyNames()).containsExactly("sslmode");
        assertThat(p.getProperty("sslmode")).isEqualTo("disable");
    }

    @Test
    void driverPropertiesCarryTheResolvedSettingsToTheSocketFactory() {
        TlsSettings tls = resolve("?sslmode=verify-full&sslrootcert=" + pki.caCertificate() + "&sslcert="
                + client.certificate() + "&sslkey=" + client.key() + "&sslpassword=secret-word");
        Properties p = new Properties();
        tls.applyTo(p);

        assertThat(PGProperty.SSL_FACTORY.getOrDefault(p)).isEqualTo(TlsSocketFactory.class.getName());
        assertThat(PGProperty.SSL_HOSTNAME_VERIFIER.getOrDefault(p)).isEqualTo(LibpqHostnameVerifier.class.getName());
        assertThat(TlsSettings.fromDriverProperties(p)).isEqualTo(tls);
        assertThat(new TlsSocketFactory(p).getDefaultCipherSuites()).isNotEmpty();
    }

    @Test
    void descriptionNeverShowsTheKeyPassword() {
        TlsSettings tls = resolve("?sslmode=require&sslcert=" + client.certificate() + "&sslkey=" + client.key()
                + "&sslpassword=secret-word");
        assertThat(tls.toString()).contains("sslmode=require", client.key().toString()).doesNotContain("secret-word");
        assertThat(tls.describe()).doesNotContain("secret-word");
    }

    private TlsSettings resolve(String query) {
        return TlsSettings.resolve(ConnectionUri.parse("postgres://capture@db.example.com/app" + query),
                home.resolve(".postgresql"));
    }

    private void assertConfigError(String query, String... fragments) {
        assertThatThrownBy(() -> resolve(query)).isInstanceOfSatisfying(ConnectorException.class, e -> {
            assertThat(e.failureType()).isEqualTo(FailureType.CONFIG_ERROR);
            assertThat(e.getMessage()).contains(fragments);
        });
    }

    private void assertContextError(String query, String... fragments) {
        assertThatThrownBy(() -> resolve(query).sslContext()).isInstanceOfSatisfying(ConnectorException.class, e -> {
            assertThat(e.failureType()).isEqualTo(FailureType.CONFIG_ERROR);
            assertThat(e.getMessage()).contains(fragments);
        });
    }
}
