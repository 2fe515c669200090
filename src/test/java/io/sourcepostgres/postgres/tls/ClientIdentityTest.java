package io.sourcepostgres.postgres.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sourcepostgres.airbyte.ConnectorException;
import io.sourcepostgres.airbyte.FailureType;
import io.sourcepostgres.testing.TestPki;
import io.sourcepostgres.testing.TestPki.Issued;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Every form of client key a libpq or pgjdbc user has, as openssl writes it, gives the same key. */
class ClientIdentityTest {
    private static final String PASSWORD = "k3y p@ss&%#+";
    private static TestPki pki;
    private static Issued client;
    private static PrivateKey expected;

    @BeforeAll
    static void makeKeys() {
        pki = TestPki.create();
        client = pki.client("alice", "alice", false);
        expected = ClientIdentity.load(client.certificate(), client.key(), null).key();
    }

    @Test
    void pkcs8PemIsTheKeyPsqlTakes() throws Exception {
        assertThat(Files.readString(client.key())).contains("-----BEGIN PRIVATE KEY-----");
        assertThat(expected.getAlgorithm()).isEqualTo("RSA");
    }

    @Test
    void pkcs1PemGivesTheSameKey() throws Exception {
        Path pkcs1 = pki.pkcs1Pem(client);
        assertThat(Files.readString(pkcs1)).contains("-----BEGIN RSA PRIVATE KEY-----");
        assertThat(load(pkcs1, null).key().getEncoded()).isEqualTo(expected.getEncoded());
    }

    @Test
    void encryptedPkcs8PemIsDecryptedWithSslpassword() throws Exception {
        Path encrypted = pki.encryptedPkcs8Pem(client, PASSWORD);
        assertThat(Files.readString(encrypted)).contains("-----BEGIN ENCRYPTED PRIVATE KEY-----");
        assertThat(load(encrypted, PASSWORD).key().getEncoded()).isEqualTo(expected.getEncoded());
    }

    @Test
    void pk8DerPlainAndEncryptedGiveTheSameKey() {
        assertThat(load(pki.pk8(client), null).key().getEncoded()).isEqualTo(expected.getEncoded());
        assertThat(load(pki.encryptedPk8(client, PASSWORD), PASSWORD).key().getEncoded())
                .isEqualTo(expected.getEncoded());
    }

    @Test
    void pkcs12BundleNeedsNoSeparateCertificate() {
        ClientIdentity identity = ClientIdentity.load(null, pki.p12(client, PASSWORD), PASSWORD);
        assertThat(identity.key().getEncoded()).isEqualTo(expected.getEncoded());
        assertThat(identity.chain()[0].getSubjectX500Principal().getName()).isEqualTo("CN=alice");
    }

    @Test
    void ecSec1KeyAfterItsParametersBlockIsRead() throws Exception {
        Issued ec = pki.ecClient("ec-alice", "alice");
        assertThat(Files.readString(ec.key())).contains("BEGIN EC PARAMETERS").contains("BEGIN EC PRIVATE KEY");
        ClientIdentity identity = ClientIdentity.load(ec.certificate(), ec.key(), null);
        assertThat(identity.key().getAlgorithm()).isEqualTo("EC");
    }

    @Test
    void encryptedKeyWithoutPasswordSaysToGiveSslpassword() {
        Path encrypted = pki.encryptedPkcs8Pem(client, PASSWORD);
        assertConfigError(() -> load(encrypted, null), "is encrypted", "sslpassword");
    }

    @Test
    void wrongPasswordIsNamedAndNotQuoted() {
        Path encrypted = pki.encryptedPkcs8Pem(client, PASSWORD);
        assertConfigError(() -> load(encrypted, "not-the-password"), "cannot be decrypted with the given sslpassword");
        assertThatThrownBy(() -> load(encrypted, "not-the-password")).hasMessageNotContaining("not-the-password");
    }

    @Test
    void legacyEncryptedPkcs1SaysHowToConvertIt() {
        Path legacy = pki.legacyEncryptedPkcs1Pem(client, PASSWORD);
        assertConfigError(() -> load(legacy, PASSWORD), "legacy format", "AES-256-CBC",
                "openssl pkcs8 -topk8 -v2 aes-256-cbc -in " + legacy);
    }

    @Test
    void keyOfAnotherCertificateIsRefused() {
        Issued bob = pki.client("bob", "bob", false);
        assertConfigError(() -> ClientIdentity.load(client.certificate(), bob.key(), null),
                "is not the private key of the certificate in sslcert", "CN=alice");
    }

    @Test
    void certificateGivenAsKeyIsNamed() {
        assertConfigError(() -> load(client.certificate(), null), "holds no private key", "found BEGIN CERTIFICATE");
    }

    @Test
    void missingFilesNameTheirParameter() {
        Path nowhere = pki.dir().resolve("missing.key");
        assertConfigError(() -> load(nowhere, null), "sslkey file " + nowhere + " does not exist");
        assertConfigError(() -> ClientIdentity.load(nowhere, client.key(), null), "sslcert file " + nowhere);
    }

    @Test
    void pkcs12WithWrongPasswordIsNamed() {
        Path p12 = pki.p12(client, PASSWORD);
        assertConfigError(() -> ClientIdentity.load(null, p12, "wrong"), "PKCS#12", "with the given sslpassword");
    }

    private static ClientIdentity load(Path key, String password) {
        return ClientIdentity.load(client.certificate(), key, password);
    }

    private static void assertConfigError(Runnable action, String... fragments) {
        assertThatThrownBy(action::run)
                .isInstanceOfSatisfying(ConnectorException.class, e -> {
                    assertThat(e.failureType()).isEqualTo(FailureType.CONFIG_ERROR);
                    assertThat(e.getMessage()).contains(fragments);
                });
    }
}
