package io.sourcepostgres.postgres;

import io.sourcepostgres.config.ConnectionUri;
import io.sourcepostgres.config.ConnectorConfig;
import io.sourcepostgres.postgres.ssh.SshTunnel;
import io.sourcepostgres.postgres.ssh.TunnelSocketFactory;
import io.sourcepostgres.postgres.tls.TlsMode;
import io.sourcepostgres.postgres.tls.TlsSettings;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Properties;
import org.postgresql.PGProperty;
import org.postgresql.jdbc.PgConnection;

/**
 * Opens the two kinds of connection the connector uses: query connections (discovery, checks, backfill)
 * and the replication connection. Both get the canonical {@link SessionSettings} and the same TLS settings
 * ({@link TlsSettings}: libpq's sslmode, sslrootcert, sslcert, sslkey, sslpassword and default files). A failure
 * to connect is translated by {@link ConnectFailures} into a message that says what to fix. With tunnel_method, both
 * kinds reach the database through one SSH tunnel ({@link SshTunnel}).
 */
public final class PgConnections {
    private static final String DEFAULT_APPLICATION_NAME = "source-postgres";

    private final ConnectorConfig config;
    /** The SSH tunnel every connection goes through, opened by the first connection; null without tunnel_method. */
    private SshTunnel tunnel;

    public PgConnections(ConnectorConfig config) {
        this.config = config;
    }

    /**
     * The local end of the SSH tunnel, opened on first use and kept for the process's life (closed at exit), so that
     * the query connections and the replication connection share one SSH session.
     */
    private synchronized int tunnelPort() {
        if (tunnel == null) {
            ConnectionUri.HostPort db = config.uri().hosts().get(0);
            SshTunnel opened = SshTunnel.open(config.tunnel(), db.host(), db.port(), config.connectTimeout());
            Runtime.getRuntime().addShutdownHook(new Thread(opened::close, "ssh-tunnel-close"));
            tunnel = opened;
        }
        return tunnel.localPort();
    }

    public ConnectorConfig config() {
        return config;
    }

    /**
     * A query connection in autocommit mode with canonical session settings, and a socket timeout
     * ({@link QueryNetworkTimeout}) so that no query waits forever on a silent network.
     */
    public PgConnection openQuery() {
        PgConnection c = open(false);
        try {
            SessionSettings.apply(c);
            QueryNetworkTimeout.apply(c, QueryNetworkTimeout.of(config.statementTimeout()));
            if (!config.statementTimeout().isZero()) {
                try (var st = c.createStatement()) {
                    st.execute("SET statement_timeout = " + config.statementTimeout().toMillis());
                }
            }
            return c;
        } catch (SQLException e) {
            closeQuietly(c);
            throw ConnectFailures.translate(e, config);
        }
    }

    /** A walsender connection for logical replication (replication=database), canonical session settings applied. */
    public PgConnection openReplication() {
        PgConnection c = open(true);
        try {
            SessionSettings.apply(c);
            return c;
        } catch (SQLException e) {
            closeQuietly(c);
            throw ConnectFailures.translate(e, config);
        }
    }

    /**
     * The TLS settings both connection kinds use, libpq's defaults applied. Their files are read here, before
     * connecting, so that a missing or malformed certificate or key is reported as such (a config error naming the
     * parameter) rather than as a failed connection. Files are read again on every connection, as libpq does, so a
     * renewed certificate is picked up by the next one.
     */
    public TlsSettings tls() {
        TlsSettings tls = TlsSettings.resolve(config.uri(), TlsSettings.defaultDirectory());
        if (tls.mode() != TlsMode.DISABLE) {
            tls.sslContext();
        }
        return tls;
    }

    private PgConnection open(boolean replication) {
        try {
            Connection c = new org.postgresql.Driver().connect(jdbcUrl(), properties(replication));
            if (c == null) {
                throw new SQLException("the PostgreSQL driver refused the URL");
            }
            return c.unwrap(PgConnection.class);
        } catch (SQLException e) {
            throw ConnectFailures.translate(e, config);
        }
    }

    String jdbcUrl() {
        StringBuilder url = new StringBuilder("jdbc:postgresql://");
        ConnectionUri uri = config.uri();
        for (int i = 0; i < uri.hosts().size(); i++) {
            if (i > 0) {
                url.append(',');
            }
            url.append(uri.hosts().get(i));
        }
        url.append('/').append(URLEncoder.encode(uri.database(), StandardCharsets.UTF_8));
        return url.toString();
    }

    Properties properties(boolean replication) {
        ConnectionUri uri = config.uri();
        Properties p = new Properties();
        PGProperty.USER.set(p, uri.user());
        if (config.password() != null) {
            PGProperty.PASSWORD.set(p, config.password());
        }
        PGProperty.APPLICATION_NAME.set(p, orDefault(uri.parameter("application_name"), DEFAULT_APPLICATION_NAME));
        tls().applyTo(p);
        if (config.tunnel() != null) {
            PGProperty.SOCKET_FACTORY.set(p, TunnelSocketFactory.class.getName());
            p.setProperty(TunnelSocketFactory.PORT_PROPERTY, Integer.toString(tunnelPort()));
        }
        setIfPresent(p, PGProperty.OPTIONS, uri.parameter("options"));
        String target = uri.parameter("target_session_attrs");
        if (target != null) {
            PGProperty.TARGET_SERVER_TYPE.set(p, switch (target) {
                case "read-write", "primary" -> "primary";
                case "read-only", "standby" -> "secondary";
                case "prefer-standby" -> "preferSecondary";
                default -> "any";
            });
        }
        int timeout = (int) config.connectTimeout().toSeconds();
        PGProperty.CONNECT_TIMEOUT.set(p, timeout);
        PGProperty.LOGIN_TIMEOUT.set(p, timeout);
        PGProperty.TCP_KEEP_ALIVE.set(p, !"0".equals(uri.parameter("keepalives")));
        if (replication) {
            PGProperty.REPLICATION.set(p, "database");
            PGProperty.PREFER_QUERY_MODE.set(p, "simple");
            PGProperty.ASSUME_MIN_SERVER_VERSION.set(p, "10");
        }
        return p;
    }

    public static void closeQuietly(AutoCloseable c) {
        if (c != null) {
            try {
                c.close();
            } catch (Exception ignored) {
                // closing after a failure: the failure is what matters
            }
        }
    }

    private static void setIfPresent(Properties p, PGProperty property, String value) {
        if (value != null && !value.isEmpty()) {
            property.set(p, value);
        }
    }

    private static String orDefault(String value, String fallback) {
        return value == null || value.isEmpty() ? fallback : value;
    }
}
