package io.sourcepostgres.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcepostgres.testing.Await;
import io.sourcepostgres.testing.Connector;
import io.sourcepostgres.testing.ConnectorRun;
import io.sourcepostgres.testing.PostgresCluster;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.UUID;

/** Runs {@code check} the way an orchestrator does and asserts what every check run must hold. */
final class CheckRuns {
    /** Every role's password, and the one given for the trusted superuser too: it must never reach stdout. */
    static final String PASSWORD = "Zq8-secret-Pw";

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private CheckRuns() {}

    /** A config for {@code user} in {@code database}; the password goes in the password setting. */
    static ObjectNode config(PostgresCluster pg, String user, String database) {
        ObjectNode config = MAPPER.createObjectNode();
        config.put("connectionURI", pg.uri(user, null, database));
        config.put("password", PASSWORD);
        return config;
    }

    /** Runs check; asserts exit 0, exactly one CONNECTION_STATUS, and no password on stdout. */
    static JsonNode check(ObjectNode config) {
        ConnectorRun run = Connector.run("check", "--config", Connector.file(config).toString());
        assertNoPassword(run);
        assertThat(run.exitCode()).as(run.toString()).isZero();
        assertThat(run.ofType("TRACE")).as(run.toString()).isEmpty();
        return run.connectionStatus();
    }

    /** Runs check on a config file's raw text; for inputs that must fail before connecting. */
    static ConnectorRun checkRaw(String configText) {
        ConnectorRun run = Connector.run("check", "--config", Connector.file(configText).toString());
        assertNoPassword(run);
        return run;
    }

    static void assertNoPassword(ConnectorRun run) {
        assertThat(run.stdout()).as("stdout holds no password").doesNotContain(PASSWORD)
                .doesNotContain(java.net.URLEncoder.encode(PASSWORD, java.nio.charset.StandardCharsets.UTF_8));
    }

    static String unique(String prefix) {
        return prefix + "_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    }

    /** Creates a login role with {@link #PASSWORD} and the given extra attributes, e.g. "REPLICATION". */
    static String createRole(PostgresCluster pg, String prefix, String attributes) {
        String role = unique(prefix);
        pg.execute("postgres", "CREATE ROLE \"" + role + "\" LOGIN " + attributes + " PASSWORD '" + PASSWORD + "'");
        return role;
    }

    static boolean slotExists(PostgresCluster pg, String slot) throws SQLException {
        try (Connection c = pg.connect();
                PreparedStatement ps = c.prepareStatement("SELECT 1 FROM pg_replication_slots WHERE slot_name = ?")) {
            ps.setString(1, slot);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    /** The slot's {@code active} as "true" or "false"; null when there is no such slot. */
    private static String active(Connection c, String slot) {
        try (PreparedStatement ps = c.prepareStatement("SELECT active::text FROM pg_replication_slots WHERE slot_name = ?")) {
            ps.setString(1, slot);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Drops a slot once whoever streamed from it has let go (a walsender takes a moment to exit). */
    static void dropSlot(PostgresCluster pg, String slot) throws Exception {
        try (Connection c = pg.connect()) {
            Await.until("slot " + slot + " to be released", Duration.ofSeconds(30), () -> !"true".equals(active(c, slot)));
            if (active(c, slot) == null) {
                return;
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT pg_drop_replication_slot(?)")) {
                ps.setString(1, slot);
                ps.execute();
            }
        }
    }
}
