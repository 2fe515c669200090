package io.sourcepostgres.postgres;

import io.sourcepostgres.airbyte.ConnectorException;
import io.sourcepostgres.config.ConnectorConfig;
import io.sourcepostgres.postgres.tls.ServerCertificateRejectedException;
import io.sourcepostgres.postgres.tls.TlsSettings;
import java.io.EOFException;
import java.net.SocketException;
import java.sql.SQLException;
import java.util.List;
import java.util.Locale;
import javax.net.ssl.SSLException;

/**
 * The ways a connection fails because of TLS, each with its fix: a certificate or key file the connector
 * cannot use, a server certificate that fails verification, a server that refuses non-TLS connections or one
 * that offers no TLS, and a server that wants (another) client certificate.
 */
final class TlsFailures {
    /** TLS alerts a server sends when it does not accept the client's certificate. */
    private static final List<String> CERTIFICATE_ALERTS = List.of("unknown_ca", "bad_certificate",
            "certificate_required", "certificate_unknown", "unsupported_certificate", "certificate_revoked",
            "certificate_expired", "access_denied", "decrypt_error");

    private TlsFailures() {}

    /** The failure, or null when it is not about TLS. */
    static ConnectorException translate(SQLException e, ConnectorConfig config) {
        String where = config.uri().describeHosts();
        String user = config.uri().user();
        String server = e.getMessage() == null ? "" : e.getMessage();
        String lower = server.toLowerCase(Locale.ROOT);
        String sslmode = config.uri().parameter("sslmode");
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ConnectorException ce) {
                return ce; // a certificate or key file our TLS socket factory could not use, thrown inside the driver
            }
            if (t instanceof ServerCertificateRejectedException rejected) {
                return ConnectorException.config("The TLS connection to " + where + " was closed by the connector: "
                        + rejected.getMessage(), e);
            }
        }
        if (lower.contains("could not be verified by hostnameverifier")) {
            return ConnectorException.config("The server's certificate at " + where + " does not name the host in"
                    + " connectionURI. With sslmode=verify-full the host must be one of the certificate's names: connect"
                    + " using one of them, or use sslmode=verify-ca to verify the CA but not the host name.", e);
        }
        if (lower.contains("the server does not support ssl")) {
            return ConnectorException.config("The server at " + where + " does not accept TLS connections, but"
                    + " sslmode=" + (sslmode == null ? "require" : sslmode) + " requires TLS. Turn TLS on in the server"
                    + " (ssl = on, ssl_cert_file, ssl_key_file in postgresql.conf), or use sslmode=prefer to connect"
                    + " without TLS when the server offers none.", e);
        }
        if ("28000".equals(e.getSQLState())) {
            if (lower.contains("no encryption") || lower.contains("ssl off")) {
                return ConnectorException.config("The server at " + where + " accepts only TLS connections from this"
                        + " host (pg_hba.conf has only hostssl lines for it), but connectionURI has sslmode="
                        + (sslmode == null ? "disable" : sslmode) + ". Use sslmode=verify-full with sslrootcert (the"
                        + " server's CA) to encrypt and verify the server, or at least sslmode=require to encrypt. ("
                        + server + ")", e);
            }
            if (lower.contains("requires a valid client certificate")) {
                return ConnectorException.config("The server at " + where + " requires a client certificate for user \""
                        + user + "\" (pg_hba.conf method cert, or clientcert=verify-ca/verify-full), and none was"
                        + " given: add sslcert=/path/to/client.crt and sslkey=/path/to/client.key to connectionURI, with"
                        + " a certificate issued by a CA in the server's ssl_ca_file. (" + server + ")", e);
            }
            if (lower.contains("certificate authentication failed")) {
                return ConnectorException.config("The server at " + where + " refused the client certificate for user"
                        + " \"" + user + "\": its CN must be the user name (or be mapped to it in pg_ident.conf). Give a"
                        + " certificate issued for CN=" + user + ", or connect as the user the certificate names. ("
                        + server + ")", e);
            }
        }
        String clientCertificate = clientCertificate(config);
        if (clientCertificate != null) {
            // The server checks the client certificate last. TLS 1.3 lets the client finish its side of the handshake
            // first, so the refusal arrives either as the server's alert (unknown_ca, bad_certificate...) or, as
            // often, as the connection closed under the handshake: broken pipe, reset, end of stream.
            String refusal = null;
            for (Throwable t = e; t != null && refusal == null; t = t.getCause()) {
                String m = t.getMessage() == null ? "" : t.getMessage();
                if (t instanceof SSLException && m.contains("alert") && CERTIFICATE_ALERTS.stream().anyMatch(m::contains)) {
                    refusal = m;
                } else if ((t instanceof SocketException && !(t instanceof java.net.ConnectException)
                        && !(t instanceof java.net.NoRouteToHostException)) || t instanceof EOFException) {
                    // pgjdbc does not always say "SSL error": a close under the handshake can surface bare.
                    refusal = m;
                }
            }
            if (refusal != null) {
                return ConnectorException.config("The server at " + where + " ended the TLS handshake after the"
                        + " connector presented the client certificate " + clientCertificate + " (" + refusal
                        + "): the server did not accept it. A client certificate must be issued by a CA in the"
                        + " server's ssl_ca_file, and sslkey must be its key; check sslcert and sslkey, or ask the"
                        + " database's administrator which CA the server trusts.", e);
            }
        }
        return null;
    }

    /** The client certificate (or PKCS#12 bundle) this configuration presents, or null when none. */
    private static String clientCertificate(ConnectorConfig config) {
        try {
            TlsSettings tls = TlsSettings.resolve(config.uri(), TlsSettings.defaultDirectory());
            if (tls.inlineCertificate() != null) {
                return "given inline (client_certificate)";
            }
            if (tls.clientKey() == null) {
                return null;
            }
            return String.valueOf(tls.clientCertificate() != null ? tls.clientCertificate() : tls.clientKey());
        } catch (RuntimeException e) {
            return null; // a configuration that cannot be resolved failed before connecting
        }
    }
}
