package io.sourcepostgres.postgres;

import io.sourcepostgres.airbyte.ConnectorException;
import io.sourcepostgres.config.ConnectorConfig;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.sql.SQLException;
import javax.net.ssl.SSLException;

/** Turns a failed connection attempt into a message that names the problem and its fix, with the right failure type. */
public final class ConnectFailures {
    private ConnectFailures() {}

    public static ConnectorException translate(SQLException e, ConnectorConfig config) {
        String user = config.uri().user();
        String db = config.uri().database();
        String where = config.uri().describeHosts();
        String state = e.getSQLState() == null ? "" : e.getSQLState();
        String server = e.getMessage() == null ? "" : e.getMessage();
        Throwable root = rootCause(e);

        if (root instanceof UnknownHostException) {
            return ConnectorException.config("Cannot resolve the host name in " + where
                    + ". Check the host in connectionURI.", e);
        }
        ConnectorException tls = TlsFailures.translate(e, config);
        if (tls != null) {
            return tls;
        }
        if (root instanceof SSLException || server.contains("SSL") || server.contains("certificate")) {
            return ConnectorException.config("The TLS connection to " + where + " failed: " + server
                    + ". Check sslmode, sslrootcert (the CA that signed the server's certificate), sslcert/sslkey, "
                    + "and that the host name matches the server's certificate for verify-full.", e);
        }
        switch (state) {
            case "28P01":
                return SqlFailures.explained("Password authentication failed for user \"" + user + "\" at " + where
                        + ". Check the password (the password setting, or the one in connectionURI).", e);
            case "28000":
                return SqlFailures.explained("The server at " + where + " refused user \"" + user + "\": " + server
                        + ". Check that the role exists and may log in, and that pg_hba.conf has a line allowing it "
                        + "to connect to database \"" + db + "\" from this host.", e);
            case "3D000":
                return SqlFailures.explained("Database \"" + db + "\" does not exist on " + where
                        + ". Check the database name in connectionURI.", e);
            case "42501":
                if (server.contains("WAL sender") || server.contains("walsender")) {
                    return SqlFailures.explained("User \"" + user + "\" may not open a replication connection ("
                            + server + "). Grant it as a superuser: ALTER ROLE " + Sql.identifier(user)
                            + " WITH REPLICATION; (on Amazon RDS/Aurora: GRANT rds_replication TO "
                            + Sql.identifier(user) + ";)", e);
                }
                if (server.contains("database")) {
                    return SqlFailures.explained("User \"" + user + "\" may not connect to database \"" + db
                            + "\" (" + server + "). Grant it: GRANT CONNECT ON DATABASE " + Sql.identifier(db)
                            + " TO " + Sql.identifier(user) + ";", e);
                }
                return SqlFailures.explained("User \"" + user + "\" was refused by the server at " + where + ": "
                        + server + ". Grant the missing privilege to the user.", e);
            case "53300":
                if (server.contains("max_wal_senders")) {
                    return SqlFailures.explained("Every WAL sender of the server at " + where
                            + " is taken (" + server + "). Stop an unused replication client, or raise"
                            + " max_wal_senders in postgresql.conf and restart the server.", e);
                }
                return SqlFailures.explained("The server at " + where + " has no free connection slots ("
                        + server + "). Retry later, or raise max_connections.", e);
            case "57P03":
                return SqlFailures.explained("The server at " + where + " is starting up or shutting down ("
                        + server + "). Retry in a moment.", e);
            default:
                break;
        }
        if (root instanceof ConnectException || root instanceof NoRouteToHostException) {
            return ConnectorException.transientError("Cannot connect to " + where + ": " + root.getMessage()
                    + ". Check the host and port in connectionURI, that the server listens on that address "
                    + "(listen_addresses, port) and that no firewall blocks it.", e);
        }
        if (root instanceof SocketTimeoutException || server.toLowerCase(java.util.Locale.ROOT).contains("timed out")
                || server.contains("timeout")) {
            return ConnectorException.transientError("Connecting to " + where + " timed out after "
                    + config.connectTimeout().toSeconds() + " s. Check the host and port in connectionURI and that "
                    + "no firewall drops the connection; raise connect_timeout_seconds on a slow network.", e);
        }
        return SqlFailures.failure("Connecting to " + where, e,
                SqlFailures.causeOf(e) == SqlFailures.Cause.CONNECTION_LOST
                        ? "Check the host and port in connectionURI and that the server is up." : null);
    }

    private static Throwable rootCause(Throwable t) {
        Throwable r = t;
        while (r.getCause() != null && r.getCause() != r) {
            r = r.getCause();
        }
        return r;
    }
}
