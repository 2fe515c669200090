package io.sourcepostgres.testing;

import io.sourcepostgres.testing.TestPki.Issued;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/**
 * A PostgreSQL server that accepts only TLS connections, with certificates from a {@link TestPki}: its
 * certificate names DNS:localhost only (so connecting to 127.0.0.1 fails verify-full), and it trusts the
 * PKI's CA for client certificates. Role {@link #PASSWORD_USER} logs in with {@link #PASSWORD} (scram),
 * role {@link #CERT_USER} with a client certificate only; both may replicate.
 */
public final class TlsCluster implements AutoCloseable {
    public static final String PASSWORD_USER = "tls_user";
    public static final String CERT_USER = "tls_cert";
    public static final String PASSWORD = "Tls-Pw-5ecret";

    private final TestPki pki;
    private final PostgresCluster pg;

    private TlsCluster(TestPki pki, PostgresCluster pg) {
        this.pki = pki;
        this.pg = pg;
    }

    public static TlsCluster start() {
        TestPki pki = TestPki.create();
        Issued server = pki.server("server", "localhost", "DNS:localhost");
        PostgresCluster.Options options = PostgresCluster.options()
                .file(server.certificate()).file(server.key()).file(pki.caCertificate())
                .set("ssl", "on")
                .set("ssl_cert_file", "server.crt")
                .set("ssl_key_file", "server.key")
                .set("ssl_ca_file", "ca.crt")
                // both loopback addresses, so that "localhost" works wherever it resolves to ::1 first
                .set("listen_addresses", "localhost");
        for (String net : new String[] {"127.0.0.1/32", "::1/128"}) {
            options.hba("hostnossl all all " + net + " reject")
                    .hba("hostssl all " + CERT_USER + " " + net + " cert")
                    .hba("hostssl all postgres " + net + " trust")
                    .hba("hostssl all all " + net + " scram-sha-256");
        }
        PostgresCluster pg = PostgresCluster.start(options);
        pg.execute("postgres",
                "CREATE ROLE " + PASSWORD_USER + " LOGIN REPLICATION PASSWORD '" + PASSWORD + "'",
                "CREATE ROLE " + CERT_USER + " LOGIN REPLICATION");
        return new TlsCluster(pki, pg);
    }

    public TestPki pki() {
        return pki;
    }

    public PostgresCluster cluster() {
        return pg;
    }

    /** A fresh database with a table both roles may read and a publication FOR ALL TABLES, so check can pass. */
    public String database() {
        String db = pg.createDatabase("tls");
        pg.execute(db,
                "CREATE TABLE orders (id int PRIMARY KEY)",
                "GRANT SELECT ON orders TO " + PASSWORD_USER + ", " + CERT_USER,
                "CREATE PUBLICATION flow_publication FOR ALL TABLES");
        return db;
    }

    /** {@code postgres://user@host:port/db?query}; {@code query} is appended as given (parameters joined by &). */
    public String uri(String user, String host, String database, String query) {
        return "postgres://" + user + "@" + host + ":" + pg.port() + "/" + database
                + (query.isEmpty() ? "" : "?" + query);
    }

    /** Percent-encodes a file path or password for a URI parameter. */
    public static String enc(Object value) {
        return URLEncoder.encode(String.valueOf(value), StandardCharsets.UTF_8).replace("+", "%20");
    }

    @Override
    public void close() {
        pg.close();
    }
}
