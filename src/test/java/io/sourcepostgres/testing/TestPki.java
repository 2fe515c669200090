package io.sourcepostgres.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A throwaway certificate authority made with {@code openssl}, as an operator would: a CA, a second CA that
 * nobody trusts, server and client certificates issued by either, and the client key in every form libpq
 * and pgjdbc users hand in (PKCS#8 and PKCS#1 PEM, encrypted or not, DER .pk8, PKCS#12, EC).
 */
public final class TestPki {
    /** A certificate and its private key (PKCS#8 PEM, unencrypted). */
    public record Issued(Path certificate, Path key) {}

    private final Path dir;
    private final Path caCert;
    private final Path caKey;
    private final Path otherCaCert;
    private final Path otherCaKey;
    private int serial;

    private TestPki(Path dir) {
        this.dir = dir;
        this.caCert = dir.resolve("ca.crt");
        this.caKey = dir.resolve("ca.key");
        this.otherCaCert = dir.resolve("other-ca.crt");
        this.otherCaKey = dir.resolve("other-ca.key");
        makeCa(caCert, caKey, "source-postgres Test Root CA");
        makeCa(otherCaCert, otherCaKey, "Untrusted Other CA");
    }

    public static TestPki create() {
        try {
            return new TestPki(Files.createTempDirectory("test-pki"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Path dir() {
        return dir;
    }

    public Path caCertificate() {
        return caCert;
    }

    public Path otherCaCertificate() {
        return otherCaCert;
    }

    /** A server certificate with subject CN={@code cn} and the given subjectAltNames ("DNS:localhost", "IP:127.0.0.1"). */
    public Issued server(String name, String cn, String... subjectAltNames) {
        String ext = "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
                + "extendedKeyUsage=serverAuth\n"
                + (subjectAltNames.length == 0 ? "" : "subjectAltName=" + String.join(",", subjectAltNames) + "\n");
        return issue(name, cn, "rsa", ext, caCert, caKey);
    }

    /** A client certificate for user {@code cn}, issued by the CA (or by the other CA). */
    public Issued client(String name, String cn, boolean byOtherCa) {
        return issue(name, cn, "rsa", "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                + "extendedKeyUsage=clientAuth\n", byOtherCa ? otherCaCert : caCert, byOtherCa ? otherCaKey : caKey);
    }

    /** A client certificate on a P-256 key, the key written as OpenSSL's SEC1 {@code EC PRIVATE KEY} (with EC PARAMETERS). */
    public Issued ecClient(String name, String cn) {
        return issue(name, cn, "ec", "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                + "extendedKeyUsage=clientAuth\n", caCert, caKey);
    }

    // ---- the same key in other forms -----------------------------------------------------------------------------

    /** {@code BEGIN RSA PRIVATE KEY}. */
    public Path pkcs1Pem(Issued issued) {
        return convert(issued, ".rsa.pem", "rsa", "-in", k(issued), "-traditional", "-out", OUT);
    }

    /** {@code BEGIN ENCRYPTED PRIVATE KEY} (PBES2, AES-256-CBC, as OpenSSL 3 writes by default). */
    public Path encryptedPkcs8Pem(Issued issued, String password) {
        return convert(issued, ".enc.pem", "pkcs8", "-topk8", "-in", k(issued), "-v2", "aes-256-cbc",
                "-passout", "pass:" + password, "-out", OUT);
    }

    /** {@code BEGIN RSA PRIVATE KEY} with {@code Proc-Type: 4,ENCRYPTED}: OpenSSL's legacy encryption. */
    public Path legacyEncryptedPkcs1Pem(Issued issued, String password) {
        return convert(issued, ".legacy.pem", "rsa", "-in", k(issued), "-traditional", "-aes256",
                "-passout", "pass:" + password, "-out", OUT);
    }

    /** PKCS#8 DER, pgjdbc's native {@code .pk8}. */
    public Path pk8(Issued issued) {
        return convert(issued, ".pk8", "pkcs8", "-topk8", "-nocrypt", "-in", k(issued), "-outform", "DER", "-out", OUT);
    }

    /** Encrypted PKCS#8 DER (PBES2). */
    public Path encryptedPk8(Issued issued, String password) {
        return convert(issued, ".enc.pk8", "pkcs8", "-topk8", "-in", k(issued), "-v2", "aes-256-cbc",
                "-passout", "pass:" + password, "-outform", "DER", "-out", OUT);
    }

    /** A PKCS#12 bundle of certificate and key. */
    public Path p12(Issued issued, String password) {
        return convert(issued, ".p12", "pkcs12", "-export", "-inkey", k(issued), "-in",
                issued.certificate().toString(), "-passout", "pass:" + password, "-out", OUT);
    }

    /** A Java trust store (PKCS#12) holding the CA, for sslrootcert=system through javax.net.ssl.trustStore. */
    public Path trustStore(String password) {
        Path store = dir.resolve("truststore.p12");
        run(List.of("keytool", "-importcert", "-noprompt", "-alias", "test-ca", "-file", caCert.toString(),
                "-keystore", store.toString(), "-storetype", "PKCS12", "-storepass", password));
        return store;
    }

    private static final String OUT = "\0out";

    private Path convert(Issued issued, String suffix, String... args) {
        Path out = dir.resolve(issued.key().getFileName().toString().replace(".key", "") + suffix);
        List<String> cmd = new ArrayList<>();
        cmd.add("openssl");
        for (String a : args) {
            cmd.add(OUT.equals(a) ? out.toString() : a);
        }
        run(cmd);
        return out;
    }

    private static String k(Issued issued) {
        return issued.key().toString();
    }

    private Issued issue(String name, String cn, String keyType, String extensions, Path ca, Path caKeyFile) {
        Path key = dir.resolve(name + ".key");
        Path csr = dir.resolve(name + ".csr");
        Path cert = dir.resolve(name + ".crt");
        Path ext = dir.resolve(name + ".ext");
        write(ext, extensions);
        if (keyType.equals("ec")) {
            run(List.of("openssl", "ecparam", "-name", "prime256v1", "-genkey", "-out", key.toString()));
            run(List.of("openssl", "req", "-new", "-key", key.toString(), "-subj", "/CN=" + cn, "-out", csr.toString()));
        } else {
            run(List.of("openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", key.toString(),
                    "-subj", "/CN=" + cn, "-out", csr.toString()));
        }
        run(List.of("openssl", "x509", "-req", "-in", csr.toString(), "-CA", ca.toString(), "-CAkey",
                caKeyFile.toString(), "-set_serial", String.valueOf(1000 + ++serial), "-days", "30",
                "-extfile", ext.toString(), "-out", cert.toString()));
        return new Issued(cert, key);
    }

    private static void makeCa(Path cert, Path key, String cn) {
        run(List.of("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key.toString(),
                "-out", cert.toString(), "-days", "30", "-subj", "/CN=" + cn,
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"));
    }

    private static void write(Path file, String text) {
        try {
            Files.writeString(file, text, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void run(List<String> cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", cmd) + " failed:\n"
                        + new String(out, StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
