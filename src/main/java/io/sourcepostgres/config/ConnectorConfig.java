package io.sourcepostgres.config;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcepostgres.airbyte.ConnectorException;
import io.sourcepostgres.airbyte.LogLevel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The validated configuration of one run. Built only by {@link #from}, which checks the JSON against the
 * spec first, so every value here is within its documented bounds.
 *
 * @param schemas the schemas discover lists; null for all
 * @param tunnel the SSH tunnel to reach the database through; null for a direct connection
 */
public record ConnectorConfig(
        ConnectionUri uri,
        String password,
        String slotName,
        String publicationName,
        boolean createSlot,
        boolean createPublication,
        int backfillChunkRows,
        long backfillChunkBytes,
        boolean tail,
        Duration checkpointInterval,
        Duration statementTimeout,
        Duration connectTimeout,
        Duration statusInterval,
        LogLevel logLevel,
        List<String> schemas,
        SshTunnelSettings tunnel,
        boolean slotFailover,
        TruncateHandling truncateHandling) {

    public static ConnectorConfig from(JsonNode json) {
        Spec.validate(json);
        ConnectionUri uri = database(json);
        if (json.hasNonNull("tunnel_method") && SshTunnelSettings.from(json.get("tunnel_method")) != null
                && uri.hosts().size() > 1) {
            throw ConnectorException.config("connectionURI names " + uri.hosts().size() + " hosts, but an SSH tunnel"
                    + " forwards to one: give one host, or no tunnel_method.");
        }
        String password = text(json, "password");
        if (password == null || password.isEmpty()) {
            password = uri.password();
        }
        int connectTimeout = uri.parameter("connect_timeout") != null
                ? Math.max(1, Integer.parseInt(uri.parameter("connect_timeout")))
                : integer(json, "connect_timeout_seconds");
        return new ConnectorConfig(
                uri,
                password,
                replicationSetting(json, "slot_name", "replication_slot"),
                replicationSetting(json, "publication_name", "publication"),
                bool(json, "create_slot"),
                bool(json, "create_publication"),
                integer(json, "backfill_chunk_size"),
                json.hasNonNull("backfill_chunk_bytes") ? json.get("backfill_chunk_bytes").asLong()
                        : Spec.defaultOf("backfill_chunk_bytes").asLong(),
                bool(json, "tail"),
                Duration.ofMillis(integer(json, "checkpoint_interval_ms")),
                Duration.ofSeconds(integer(json, "statement_timeout_seconds")),
                Duration.ofSeconds(connectTimeout),
                Duration.ofSeconds(integer(json, "status_interval_seconds")),
                LogLevel.parse(text(json, "log_level")),
                schemas(json),
                SshTunnelSettings.from(json.get("tunnel_method")),
                bool(json, "slot_failover"),
                TruncateHandling.valueOf(
                        text(json, "truncate_handling").toUpperCase(java.util.Locale.ROOT)));
    }

    /**
     * The database, from exactly one of the two forms: connectionURI, or Airbyte's host, port, database and
     * username. Both at once would leave it unclear which one the user means, so that is an error naming both.
     */
    private static ConnectionUri database(JsonNode json) {
        List<String> airbyte = AirbyteShape.keysIn(json);
        if (json.hasNonNull("connectionURI")) {
            if (!airbyte.isEmpty()) {
                throw ConnectorException.config("The configuration gives the database twice: as connectionURI and as "
                        + String.join(", ", airbyte) + " (Airbyte's shape). Keep one form: either connectionURI alone,"
                        + " or host, port, database, username, ssl_mode and jdbc_url_params without connectionURI.");
            }
            return ConnectionUri.parse(json.get("connectionURI").asText());
        }
        if (airbyte.isEmpty()) {
            throw ConnectorException.config("The configuration names no database: give connectionURI (a libpq URI such"
                    + " as postgres://user@host:5432/database), or host, database and username (Airbyte's shape).");
        }
        return AirbyteShape.parse(json);
    }

    /** replication_method's slot and publication are our slot_name and publication_name under Airbyte's names. */
    private static String replicationSetting(JsonNode json, String ours, String airbytes) {
        JsonNode method = json.path("replication_method");
        String theirs = method.hasNonNull(airbytes) ? method.get(airbytes).asText() : null;
        if (theirs != null && json.hasNonNull(ours) && !json.get(ours).asText().equals(theirs)) {
            throw ConnectorException.config(ours + " and replication_method." + airbytes + " are the same setting and"
                    + " differ: keep one of them.");
        }
        return theirs != null ? theirs : text(json, ours);
    }

    private static List<String> schemas(JsonNode json) {
        if (!json.hasNonNull("schemas")) {
            return null;
        }
        List<String> schemas = new ArrayList<>();
        json.get("schemas").forEach(s -> schemas.add(s.asText()));
        return List.copyOf(schemas);
    }

    /** The same configuration with tail switched on (the catalog may ask for it). */
    public ConnectorConfig withTail(boolean tail) {
        return new ConnectorConfig(uri, password, slotName, publicationName, createSlot, createPublication,
                backfillChunkRows, backfillChunkBytes, tail, checkpointInterval, statementTimeout, connectTimeout,
                statusInterval, logLevel, schemas, tunnel, slotFailover, truncateHandling);
    }

    @Override
    public String toString() {
        return "ConnectorConfig[uri=" + uri + ", slot=" + slotName + ", publication=" + publicationName
                + (tunnel == null ? "" : ", tunnel=" + tunnel) + "]";
    }

    private static String text(JsonNode json, String key) {
        JsonNode v = json.get(key);
        if (v == null || v.isNull()) {
            JsonNode d = Spec.connectionSpecification().path("properties").path(key).get("default");
            return d == null ? null : d.asText();
        }
        return v.asText();
    }

    private static boolean bool(JsonNode json, String key) {
        JsonNode v = json.get(key);
        return v == null || v.isNull() ? Spec.defaultOf(key).asBoolean() : v.asBoolean();
    }

    private static int integer(JsonNode json, String key) {
        JsonNode v = json.get(key);
        return v == null || v.isNull() ? Spec.defaultOf(key).asInt() : v.asInt();
    }
}
