package io.sourcepostgres.postgres.tls;

import io.sourcepostgres.airbyte.ConnectorException;
import io.sourcepostgres.config.ConnectionUri;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import org.postgresql.PGProperty;

/**
 * How a connection uses TLS, from libpq's parameters (sslmode, sslrootcert, sslcert, sslkey, sslpassword) and
 * libpq's default files in {@code ~/.postgresql/}, resolved once into explicit files. Both connection kinds
 * (query and replication) get the same settings through {@link #applyTo}; pgjdbc then builds every TLS socket
 * with {@link TlsSocketFactory}, which reads the files again from these settings.
 *
 * @param rootCertificates CA certificates the server's certificate must chain to; null when none
 * @param systemRoots sslrootcert=system: the CAs the Java runtime trusts
 * @param clientCertificate the client certificate (PEM or DER, may hold its chain); null when none
 * @param clientKey its private key (PEM, DER PKCS#8, or a PKCS#12 bundle .p12/.pfx holding the chain too)
 * @param keyPassword sslpassword: decrypts the key or opens the bundle; never shown
 * @param inlineRoots the CA certificates as PEM text, when sslrootcert (or Airbyte's ca_certificate) gave the text
 *     itself rather than a path; null otherwise
 * @param inlineCertificate the client certificate as PEM text (sslcert / client_certificate); null otherwise
 * @param inlineKey the client key as PEM text (sslkey / client_key): only ever in memory, never shown
 */
public record TlsSettings(
        TlsMode mode,
        Path rootCertificates,
        boolean systemRoots,
        Path clientCertificate,
        Path clientKey,
        String keyPassword,
        String inlineRoots,
        String inlineCertificate,
        String inlineKey) {

    /** sslrootcert=system: trust the CAs of the Java runtime's trust store. */
    public static final String SYSTEM_ROOTS = "system";

    /**
     * Applies libpq's defaults: sslmode prefer (verify-full with sslrootcert=system); the root certificates in
     * {@code root.crt}, the client certificate in {@code postgresql.crt} and its key in {@code postgresql.key}
     * (or pgjdbc's {@code postgresql.pk8}) of {@code defaultDirectory}, each only when the file exists. A file
     * named explicitly must exist. Fails with a config error naming the parameter to fix.
     */
    public static TlsSettings resolve(ConnectionUri uri, Path defaultDirectory) {
        String root = nonEmpty(uri.parameter("sslrootcert"));
        boolean system = SYSTEM_ROOTS.equals(root);
        String sslmode = nonEmpty(uri.parameter("sslmode"));
        TlsMode mode = sslmode != null ? TlsMode.parse(sslmode) : system ? TlsMode.VERIFY_FULL : TlsMode.PREFER;
        if (mode == TlsMode.DISABLE) {
            return new TlsSettings(mode, null, false, null, null, null, null, null, null);
        }
        String inlineRoots = inline(root);
        String inlineCert = inline(nonEmpty(uri.parameter("sslcert")));
        String inlineKey = inline(nonEmpty(uri.parameter("sslkey")));
        if (inlineRoots != null || inlineCert != null || inlineKey != null) {
            return resolveInline(uri, mode, root, inlineRoots, inlineCert, inlineKey);
        }
        if (system && mode != TlsMode.VERIFY_FULL) {
            throw ConnectorException.config("sslrootcert=system may only be used with sslmode=verify-full (as in libpq):"
                    + " any public CA can issue a certificate for some name, so with the system's CAs only the host name"
                    + " check makes the server's identity certain. Use sslmode=verify-full, or give sslrootcert the file"
                    + " of your server's CA.");
        }
        Path rootFile = null;
        if (!system) {
            Path defaultRoot = defaultDirectory.resolve("root.crt");
            rootFile = root != null ? Paths.get(root) : Files.isRegularFile(defaultRoot) ? defaultRoot : null;
            if (rootFile == null && mode.requiresVerifiedCertificate()) {
                throw ConnectorException.config("sslmode=" + mode.wireName() + " verifies the server's certificate, so"
                        + " it needs the certificate of the CA that issued it: add sslrootcert=/path/to/ca.crt to"
                        + " connectionURI (or sslrootcert=system to trust the CAs the Java runtime trusts). None was"
                        + " given, and the default " + defaultRoot + " does not exist.");
            }
        }

        String cert = nonEmpty(uri.parameter("sslcert"));
        String key = nonEmpty(uri.parameter("sslkey"));
        Path certFile = cert != null ? Paths.get(cert) : existing(defaultDirectory.resolve("postgresql.crt"));
        Path keyFile = key != null ? Paths.get(key) : null;
        if (keyFile == null && certFile != null) {
            keyFile = existing(defaultDirectory.resolve("postgresql.key"));
            if (keyFile == null) {
                keyFile = existing(defaultDirectory.resolve("postgresql.pk8"));
            }
            if (keyFile == null) {
                throw ConnectorException.config("The client certificate " + certFile + " has no private key: add"
                        + " sslkey=/path/to/client.key to connectionURI (the default "
                        + defaultDirectory.resolve("postgresql.key") + " does not exist).");
            }
        }
        if (keyFile != null && certFile == null && !isPkcs12(keyFile)) {
            throw ConnectorException.config("sslkey is given without sslcert: add the client certificate as"
                    + " sslcert=/path/to/client.crt to connectionURI (or give sslkey a PKCS#12 bundle, .p12 or .pfx,"
                    + " that holds both).");
        }
        return new TlsSettings(mode, rootFile, system, certFile, keyFile, nonEmpty(uri.parameter("sslpassword")),
                null, null, null);
    }

    /**
     * Some of sslrootcert, sslcert and sslkey hold PEM text (Airbyte's ssl_mode fields arrive this way). Then the
     * TLS material is exactly what was given: no default file of ~/.postgresql is mixed in, and every slot holds
     * either text or a path.
     */
    private static TlsSettings resolveInline(ConnectionUri uri, TlsMode mode, String root, String inlineRoots,
            String inlineCert, String inlineKey) {
        boolean system = SYSTEM_ROOTS.equals(root);
        Path rootFile = inlineRoots == null && root != null && !system ? Paths.get(root) : null;
        if (inlineRoots == null && rootFile == null && !system && mode.requiresVerifiedCertificate()) {
            throw ConnectorException.config("sslmode=" + mode.wireName() + " verifies the server's certificate, so it"
                    + " needs the certificate of the CA that issued it: give it as ca_certificate (PEM text) or"
                    + " sslrootcert.");
        }
        String cert = nonEmpty(uri.parameter("sslcert"));
        String key = nonEmpty(uri.parameter("sslkey"));
        if ((cert == null) != (key == null)) {
            throw ConnectorException.config(cert == null
                    ? "A client key is given without its certificate: add client_certificate (sslcert) as well."
                    : "A client certificate is given without its private key: add client_key (sslkey) as well.");
        }
        return new TlsSettings(mode, rootFile, system, inlineCert == null && cert != null ? Paths.get(cert) : null,
                inlineKey == null && key != null ? Paths.get(key) : null, nonEmpty(uri.parameter("sslpassword")),
                inlineRoots, inlineCert, inlineKey);
    }

    private static String inline(String value) {
        return io.sourcepostgres.config.AirbyteShape.isInlinePem(value) ? value : null;
    }

    /** libpq's directory of default files: {@code $HOME/.postgresql} (the account's home when HOME is unset). */
    public static Path defaultDirectory() {
        String home = System.getenv("HOME");
        if (home == null || home.isEmpty()) {
            home = System.getProperty("user.home");
        }
        return Paths.get(home, ".postgresql");
    }

    /** The settings {@link #applyTo} put in pgjdbc's properties, already resolved: no defaults are applied again. */
    static TlsSettings fromDriverProperties(Properties p) {
        TlsMode mode = TlsMode.parse(PGProperty.SSL_MODE.getOrDefault(p));
        String root = nonEmpty(PGProperty.SSL_ROOT_CERT.getOrDefault(p));
        String cert = nonEmpty(PGProperty.SSL_CERT.getOrDefault(p));
        String key = nonEmpty(PGProperty.SSL_KEY.getOrDefault(p));
        return new TlsSettings(mode,
                root == null || SYSTEM_ROOTS.equals(root) || inline(root) != null ? null : Paths.get(root),
                SYSTEM_ROOTS.equals(root),
                cert == null || inline(cert) != null ? null : Paths.get(cert),
                key == null || inline(key) != null ? null : Paths.get(key),
                nonEmpty(PGProperty.SSL_PASSWORD.getOrDefault(p)),
                inline(root), inline(cert), inline(key));
    }

    /** Puts these settings into pgjdbc's connection properties, with our socket factory and host name check. */
    public void applyTo(Properties p) {
        PGProperty.SSL_MODE.set(p, mode.wireName());
        if (mode == TlsMode.DISABLE) {
            return;
        }
        PGProperty.SSL_FACTORY.set(p, TlsSocketFactory.class.getName());
        PGProperty.SSL_HOSTNAME_VERIFIER.set(p, LibpqHostnameVerifier.class.getName());
        if (systemRoots) {
            PGProperty.SSL_ROOT_CERT.set(p, SYSTEM_ROOTS);
        } else if (rootCertificates != null) {
            PGProperty.SSL_ROOT_CERT.set(p, rootCertificates.toString());
        } else if (inlineRoots != null) {
            // The text itself travels to TlsSocketFactory in the in-memory properties; pgjdbc never reads it.
            PGProperty.SSL_ROOT_CERT.set(p, inlineRoots);
        }
        if (clientCertificate != null || inlineCertificate != null) {
            PGProperty.SSL_CERT.set(p, clientCertificate != null ? clientCertificate.toString() : inlineCertificate);
        }
        if (clientKey != null || inlineKey != null) {
            PGProperty.SSL_KEY.set(p, clientKey != null ? clientKey.toString() : inlineKey);
        }
        if (keyPassword != null) {
            PGProperty.SSL_PASSWORD.set(p, keyPassword);
        }
    }

    /**
     * Reads the files and builds the TLS context; every unreadable, malformed or mismatched file is a config
     * error naming its parameter. Called before connecting, so that such mistakes are reported as such rather
     * than as a failed connection.
     */
    public SSLContext sslContext() {
        TrustManager trust = serverTrust();
        KeyManager[] keys = null;
        if (inlineKey != null && inlineCertificate != null) {
            keys = new KeyManager[] {new ClientKeyManager(ClientIdentity.inline(inlineCertificate, inlineKey, keyPassword))};
        } else if (inlineKey != null || inlineCertificate != null) {
            throw ConnectorException.config("Give the client certificate and its key in the same way: both as PEM text"
                    + " (client_certificate and client_key) or both as paths (sslcert and sslkey).");
        } else if (clientKey != null) {
            keys = new KeyManager[] {new ClientKeyManager(ClientIdentity.load(clientCertificate, clientKey, keyPassword))};
        }
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keys, new TrustManager[] {trust}, null);
            return context;
        } catch (GeneralSecurityException e) {
            throw ConnectorException.system("This Java runtime cannot set up TLS: " + e.getMessage(), e);
        }
    }

    /** For logs: the mode and the files, never the password. */
    public String describe() {
        if (mode == TlsMode.DISABLE) {
            return "sslmode=disable (no TLS)";
        }
        StringBuilder s = new StringBuilder("sslmode=").append(mode.wireName());
        if (systemRoots) {
            s.append(", sslrootcert=system");
        } else if (rootCertificates != null) {
            s.append(", sslrootcert=").append(rootCertificates);
        } else if (inlineRoots != null) {
            s.append(", CA certificate given inline");
        }
        if (clientCertificate != null) {
            s.append(", sslcert=").append(clientCertificate);
        } else if (inlineCertificate != null) {
            s.append(", client certificate given inline");
        }
        if (clientKey != null) {
            s.append(", sslkey=").append(clientKey);
        } else if (inlineKey != null) {
            s.append(", client key given inline");
        }
        return s.toString();
    }

    /** The parameter that names the CA, for messages: sslrootcert, or Airbyte's ca_certificate. */
    public String rootParameter() {
        return inlineRoots != null ? "ca_certificate (sslrootcert)" : "sslrootcert";
    }

    @Override
    public String toString() {
        return "TlsSettings[" + describe() + "]";
    }

    private ServerCertificateTrust serverTrust() {
        if (!systemRoots && rootCertificates == null && inlineRoots == null) {
            return new ServerCertificateTrust(null, "no CA", mode.verifiesHostName());
        }
        try {
            TrustManagerFactory factory = TrustManagerFactory.getInstance("PKIX");
            String description;
            if (systemRoots) {
                factory.init((KeyStore) null);
                description = "the CAs the Java runtime trusts (sslrootcert=system)";
            } else {
                List<X509Certificate> roots = inlineRoots != null
                        ? TlsFiles.inlineCertificates(inlineRoots, "sslrootcert (ssl_mode.ca_certificate)")
                        : TlsFiles.certificates(rootCertificates, "sslrootcert");
                KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
                store.load(null, null);
                for (int i = 0; i < roots.size(); i++) {
                    store.setCertificateEntry("root-" + i, roots.get(i));
                }
                factory.init(store);
                description = inlineRoots != null ? "the CA certificate given inline" : "sslrootcert " + rootCertificates;
            }
            for (TrustManager tm : factory.getTrustManagers()) {
                if (tm instanceof X509ExtendedTrustManager x509) {
                    return new ServerCertificateTrust(x509, description, mode.verifiesHostName());
                }
            }
            throw ConnectorException.system("This Java runtime offers no X.509 trust manager.", null);
        } catch (GeneralSecurityException | java.io.IOException e) {
            throw ConnectorException.config("The root certificates in "
                    + (systemRoots ? "the Java runtime's trust store"
                            : inlineRoots != null ? "the CA certificate given inline" : "sslrootcert " + rootCertificates)
                    + " cannot be used: " + e.getMessage() + ".", e);
        }
    }

    private static boolean isPkcs12(Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        return name.endsWith(".p12") || name.endsWith(".pfx");
    }

    private static Path existing(Path file) {
        return Files.isRegularFile(file) ? file : null;
    }

    private static String nonEmpty(String s) {
        return s == null || s.isEmpty() ? null : s;
    }
}
