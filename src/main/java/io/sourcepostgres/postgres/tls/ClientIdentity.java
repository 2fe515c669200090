package io.sourcepostgres.postgres.tls;

import io.sourcepostgres.airbyte.ConnectorException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/** The client certificate chain and its private key, as presented to a server that authenticates by certificate. */
record ClientIdentity(PrivateKey key, X509Certificate[] chain) {

    /**
     * Loads sslcert and sslkey (any form {@link PrivateKeyFile} reads), or a PKCS#12 bundle when sslkey ends in
     * .p12 or .pfx (then sslcert is not needed: the bundle holds the chain), and checks that key and
     * certificate belong together, so that a mismatch is named here rather than as a failed handshake.
     */
    static ClientIdentity load(Path certificate, Path key, String password) {
        String name = key.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".p12") || name.endsWith(".pfx")) {
            return fromPkcs12(key, password);
        }
        List<X509Certificate> chain = TlsFiles.certificates(certificate, "sslcert");
        PrivateKey privateKey = PrivateKeyFile.read(key, password, chain.get(0).getPublicKey().getAlgorithm());
        ClientIdentity identity = new ClientIdentity(privateKey, chain.toArray(X509Certificate[]::new));
        identity.checkKeyMatchesCertificate("the certificate in sslcert " + certificate, "sslkey " + key);
        return identity;
    }

    /** The certificate and key given as PEM text (sslcert/sslkey values, or Airbyte's client_certificate/client_key). */
    static ClientIdentity inline(String certificatePem, String keyPem, String password) {
        List<X509Certificate> chain = TlsFiles.inlineCertificates(certificatePem, "sslcert (ssl_mode.client_certificate)");
        PrivateKey privateKey = PrivateKeyFile.readInline(keyPem, password, chain.get(0).getPublicKey().getAlgorithm());
        ClientIdentity identity = new ClientIdentity(privateKey, chain.toArray(X509Certificate[]::new));
        identity.checkKeyMatchesCertificate("the client certificate given inline", "The client key given inline");
        return identity;
    }

    private static ClientIdentity fromPkcs12(Path file, String password) {
        byte[] bytes = TlsFiles.read(file, "sslkey");
        char[] chars = password == null ? new char[0] : password.toCharArray();
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(new ByteArrayInputStream(bytes), chars);
            for (String alias : Collections.list(store.aliases())) {
                if (store.isKeyEntry(alias)) {
                    Key key = store.getKey(alias, chars);
                    Certificate[] chain = store.getCertificateChain(alias);
                    if (key instanceof PrivateKey pk && chain != null && chain.length > 0) {
                        X509Certificate[] x509 = new X509Certificate[chain.length];
                        for (int i = 0; i < chain.length; i++) {
                            x509[i] = (X509Certificate) chain[i];
                        }
                        return new ClientIdentity(pk, x509);
                    }
                }
            }
            throw ConnectorException.config("sslkey " + file + " (PKCS#12) holds no private key with its certificate."
                    + " Create it with: openssl pkcs12 -export -inkey client.key -in client.crt -out client.p12");
        } catch (IOException e) {
            throw ConnectorException.config("sslkey " + file + " (PKCS#12) cannot be opened"
                    + (password == null ? " without a password: give it as sslpassword" : " with the given sslpassword")
                    + " (" + e.getMessage() + ").", e);
        } catch (GeneralSecurityException e) {
            throw ConnectorException.config("sslkey " + file + " (PKCS#12) cannot be read: " + e.getMessage() + ".", e);
        } finally {
            java.util.Arrays.fill(chars, '\0');
        }
    }

    /** Signs and verifies a few bytes: the only check that works the same for every key type. */
    private void checkKeyMatchesCertificate(String certificate, String keyLabel) {
        String algorithm = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            case "EdDSA", "Ed25519", "Ed448" -> "EdDSA";
            default -> null;
        };
        if (algorithm == null) {
            return;
        }
        try {
            byte[] probe = "source-postgres key check".getBytes(StandardCharsets.US_ASCII);
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(probe);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(chain[0].getPublicKey());
            verifier.update(probe);
            if (verifier.verify(signature)) {
                return;
            }
        } catch (GeneralSecurityException e) {
            // a key of another type or curve than the certificate's: the same mismatch as a failed verification
        }
        throw ConnectorException.config(keyLabel + " is not the private key of " + certificate + " (" + chain[0].getSubjectX500Principal().getName() + "). Give the key that was"
                + " created with that certificate.");
    }
}
