package io.sourcepostgres.postgres.tls;

import io.sourcepostgres.airbyte.ConnectorException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.List;
import javax.crypto.Cipher;
import javax.crypto.EncryptedPrivateKeyInfo;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;

/**
 * Reads a client private key in the forms libpq users have them, so that the file that works with psql works
 * here too (pgjdbc 42.7.8 itself reads only PKCS#8 DER and PKCS#12):
 * PEM {@code BEGIN PRIVATE KEY} (PKCS#8), {@code BEGIN RSA PRIVATE KEY} (PKCS#1), {@code BEGIN EC PRIVATE KEY}
 * (SEC1), {@code BEGIN ENCRYPTED PRIVATE KEY} (PKCS#8 encrypted with sslpassword), and DER PKCS#8, plain or
 * encrypted. The key is decrypted in memory only; nothing is written to disk.
 */
final class PrivateKeyFile {
    private static final byte[] RSA_ENCRYPTION = {0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86, (byte) 0xf7, 0x0d,
            0x01, 0x01, 0x01};
    private static final byte[] EC_PUBLIC_KEY = {0x06, 0x07, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x02, 0x01};
    private static final byte[] DER_NULL = {0x05, 0x00};
    private static final byte[] VERSION_ZERO = {0x02, 0x01, 0x00};

    private PrivateKeyFile() {}

    /**
     * @param algorithm the key algorithm of the certificate it belongs to ("RSA", "EC", "EdDSA", ...)
     * @param password sslpassword, or null when none was given
     */
    static PrivateKey read(Path file, String password, String algorithm) {
        return read(TlsFiles.read(file, "sslkey"), new Origin("sslkey " + file, file.toString()), password, algorithm);
    }

    /** The key given as PEM text (sslkey's value, or Airbyte's client_key); held in memory only. */
    static PrivateKey readInline(String pem, String password, String algorithm) {
        return read(pem.getBytes(java.nio.charset.StandardCharsets.UTF_8), Origin.INLINE, password, algorithm);
    }

    /** Where the key came from, for messages: a file, or PEM text given inline (then no path to quote). */
    record Origin(String label, String path) {
        static final Origin INLINE = new Origin("The client key given inline (sslkey / ssl_mode.client_key)",
                "client.key");
    }

    private static PrivateKey read(byte[] bytes, Origin file, String password, String algorithm) {
        byte[] pkcs8 = Pem.looksLikePem(bytes) ? fromPem(file, bytes, password) : fromDer(file, bytes, password);
        try {
            return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
        } catch (NoSuchAlgorithmException e) {
            throw ConnectorException.config(file.label() + ": this Java runtime cannot use " + algorithm
                    + " keys. Use an RSA or EC client certificate and key.", e);
        } catch (InvalidKeySpecException e) {
            throw ConnectorException.config(file.label() + " is not a valid " + algorithm + " private key for the"
                    + " certificate in sslcert (" + e.getMessage() + "). Check that sslkey is the key of sslcert.", e);
        }
    }

    private static byte[] fromPem(Origin file, byte[] bytes, String password) {
        List<Pem.Block> blocks = Pem.blocks(bytes);
        for (Pem.Block block : blocks) {
            switch (block.label()) {
                case "PRIVATE KEY":
                    return body(file, block);
                case "ENCRYPTED PRIVATE KEY":
                    return decrypt(file, body(file, block), password);
                case "RSA PRIVATE KEY":
                    refuseLegacyEncryption(file, block);
                    return Der.sequence(VERSION_ZERO, Der.sequence(RSA_ENCRYPTION, DER_NULL),
                            Der.tagged(Der.OCTET_STRING, body(file, block)));
                case "EC PRIVATE KEY":
                    refuseLegacyEncryption(file, block);
                    return sec1ToPkcs8(file, body(file, block));
                default:
                    break; // e.g. EC PARAMETERS before the key, or a certificate in the same file
            }
        }
        throw ConnectorException.config(file.label() + " holds no private key: expected a PEM block BEGIN PRIVATE"
                + " KEY, BEGIN RSA PRIVATE KEY, BEGIN EC PRIVATE KEY or BEGIN ENCRYPTED PRIVATE KEY"
                + (blocks.isEmpty() ? "" : ", found BEGIN " + blocks.get(0).label()) + ".");
    }

    private static byte[] fromDer(Origin file, byte[] der, String password) {
        try {
            Der.sequenceElements(der);
        } catch (IllegalArgumentException e) {
            throw ConnectorException.config(file.label() + " is neither a PEM file nor DER: give the key in PEM"
                    + " (as psql takes it), PKCS#8 DER (.pk8) or PKCS#12 (.p12/.pfx).");
        }
        EncryptedPrivateKeyInfo encrypted;
        try {
            encrypted = new EncryptedPrivateKeyInfo(der);
        } catch (IOException e) {
            return der; // not encrypted: plain PKCS#8, checked when the key is made
        }
        return decrypt(file, encrypted, password);
    }

    private static byte[] decrypt(Origin file, byte[] der, String password) {
        try {
            return decrypt(file, new EncryptedPrivateKeyInfo(der), password);
        } catch (IOException e) {
            throw ConnectorException.config(file.label() + " holds an ENCRYPTED PRIVATE KEY block that cannot be"
                    + " read: " + e.getMessage() + ".", e);
        }
    }

    private static byte[] decrypt(Origin file, EncryptedPrivateKeyInfo encrypted, String password) {
        if (password == null || password.isEmpty()) {
            throw ConnectorException.config(file.label() + " is encrypted: give its passphrase as sslpassword in"
                    + " connectionURI (...&sslpassword=...), or decrypt the key: openssl pkcs8 -topk8 -nocrypt -in "
                    + file.path() + " -out client.key");
        }
        AlgorithmParameters parameters = encrypted.getAlgParameters();
        String algorithm = encrypted.getAlgName();
        // PBES2 (what OpenSSL 1.1+ writes) names the real scheme only in its parameters, e.g.
        // PBEWithHmacSHA256AndAES_256; Java's ciphers are registered under that name.
        if (parameters != null && ("PBES2".equalsIgnoreCase(algorithm) || "1.2.840.113549.1.5.13".equals(algorithm))) {
            algorithm = parameters.toString();
        }
        char[] chars = password.toCharArray();
        try {
            Cipher cipher = Cipher.getInstance(algorithm);
            PBEKeySpec spec = new PBEKeySpec(chars);
            cipher.init(Cipher.DECRYPT_MODE, SecretKeyFactory.getInstance(algorithm).generateSecret(spec), parameters);
            spec.clearPassword();
            return encrypted.getKeySpec(cipher).getEncoded();
        } catch (NoSuchAlgorithmException e) {
            throw ConnectorException.config(file.label() + " is encrypted with " + algorithm + ", which this Java"
                    + " runtime cannot decrypt. Re-encrypt it with a standard scheme: openssl pkcs8 -topk8 -v2 aes-256-cbc"
                    + " -in " + file.path() + " -out client.key", e);
        } catch (GeneralSecurityException e) {
            throw ConnectorException.config(file.label() + " cannot be decrypted with the given sslpassword."
                    + " Check sslpassword (percent-encode '&', '%', '#' and '+' in connectionURI).", e);
        } finally {
            java.util.Arrays.fill(chars, '\0');
        }
    }

    /** SEC1 names the curve inside the key; PKCS#8 wants it in the algorithm identifier. */
    private static byte[] sec1ToPkcs8(Origin file, byte[] sec1) {
        try {
            for (Der.Element e : Der.sequenceElements(sec1)) {
                if (e.tag() == 0xa0) { // [0] ECParameters: the named curve's OID
                    byte[] curve = e.content();
                    if (curve.length > 0 && curve[0] == Der.OBJECT_IDENTIFIER) {
                        return Der.sequence(VERSION_ZERO, Der.sequence(EC_PUBLIC_KEY, curve),
                                Der.tagged(Der.OCTET_STRING, sec1));
                    }
                }
            }
        } catch (IllegalArgumentException e) {
            throw ConnectorException.config(file.label() + " holds an EC PRIVATE KEY block that is not valid DER.", e);
        }
        throw ConnectorException.config(file.label() + " holds an EC key that does not name its curve. Convert it"
                + " to PKCS#8: openssl pkcs8 -topk8 -nocrypt -in " + file.path() + " -out client.key");
    }

    private static void refuseLegacyEncryption(Origin file, Pem.Block block) {
        if (block.legacyEncrypted()) {
            // OpenSSL's old "traditional" encryption (Proc-Type/DEK-Info headers) derives the key with MD5; Java has no
            // reader for it. Re-encrypting as PKCS#8 keeps the same passphrase usable by psql and by this connector.
            throw ConnectorException.config(file.label() + " is encrypted in OpenSSL's legacy format ("
                    + block.headers().getOrDefault("DEK-Info", "Proc-Type: 4,ENCRYPTED")
                    + "), which this connector cannot read. Convert it to encrypted PKCS#8, which psql reads as well,"
                    + " keeping the passphrase: openssl pkcs8 -topk8 -v2 aes-256-cbc -in " + file.path()
                    + " -out client.key (then sslkey=client.key and the same sslpassword).");
        }
    }

    private static byte[] body(Origin file, Pem.Block block) {
        if (block.der() == null) {
            throw ConnectorException.config(file.label() + ": the " + block.label() + " block is not valid base64.");
        }
        return block.der();
    }
}
