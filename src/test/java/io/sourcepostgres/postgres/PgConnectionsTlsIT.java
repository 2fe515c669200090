package io.sourcepostgres.postgres;

import static io.sourcepostgres.testing.TlsCluster.CERT_USER;
import static io.sourcepostgres.testing.TlsCluster.PASSWORD;
import static io.sourcepostgres.testing.TlsCluster.PASSWORD_USER;
import static io.sourcepostgres.testing.TlsCluster.enc;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcepostgres.config.ConnectorConfig;
import io.sourcepostgres.testing.TestPki.Issued;
import io.sourcepostgres.testing.TlsCluster;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.jdbc.PgConnection;

/**
 * The server's own view (pg_stat_ssl) of both connection kinds PgConnections opens: the query connection and
 * the walsender (replication=database) connection are both encrypted, and both present the client certificate.
 */
class PgConnectionsTlsIT {
    private static TlsCluster tls;
    private static String db;

    @BeforeAll
    static void start() {
        tls = TlsCluster.start();
        db = tls.database();
    }

    @AfterAll
    static void stop() {
        tls.close();
    }

    @Test
    void verifyFullEncryptsTheQueryAndTheReplicationConnection() throws SQLException {
        PgConnections connections = connections(PASSWORD_USER, PASSWORD,
                "sslmode=verify-full&sslrootcert=" + enc(tls.pki().caCertificate()));
        try (PgConnection query = connections.openQuery(); PgConnection replication = connections.openReplication()) {
            assertThat(ssl(query)).startsWith("true TLSv1.");
            assertThat(ssl(replication)).startsWith("true TLSv1.");
            assertThat(isWalSender(replication)).as("the replication connection is a walsender").isTrue();
        }
    }

    @Test
    void bothConnectionKindsPresentTheClientCertificate() throws SQLException {
        Issued client = tls.pki().client("pgconn-cert", CERT_USER, false);
        PgConnections connections = connections(CERT_USER, null, "sslmode=verify-full&sslrootcert="
                + enc(tls.pki().caCertificate()) + "&sslcert=" + enc(client.certificate()) + "&sslkey="
                + enc(tls.pki().pkcs1Pem(client)));
        try (PgConnection query = connections.openQuery(); PgConnection replication = connections.openReplication()) {
            assertThat(ssl(query)).endsWith("/CN=" + CERT_USER);
            assertThat(ssl(replication)).endsWith("/CN=" + CERT_USER);
            assertThat(isWalSender(replication)).isTrue();
        }
    }

    private static PgConnections connections(String user, String password, String query) {
        ObjectNode json = new ObjectMapper().createObjectNode();
        json.put("connectionURI", tls.uri(user, "localhost", db, query));
        if (password != null) {
            json.put("password", password);
        }
        return new PgConnections(ConnectorConfig.from(json));
    }

    /** "ssl version client_dn" of this session, as the server sees it. */
    private static String ssl(PgConnection c) throws SQLException {
        try (Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT ssl, version, coalesce(client_dn, '') FROM pg_stat_ssl"
                        + " WHERE pid = pg_backend_pid()")) {
            assertThat(rs.next()).isTrue();
            return rs.getBoolean(1) + " " + rs.getString(2) + " " + rs.getString(3);
        }
    }

    private static boolean isWalSender(PgConnection c) throws SQLException {
        try (Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT backend_type FROM pg_stat_activity WHERE pid = pg_backend_pid()")) {
            return rs.next() && "walsender".equals(rs.getString(1));
        }
    }
}
