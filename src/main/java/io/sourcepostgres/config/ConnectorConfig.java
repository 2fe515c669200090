package io.sourcepostgres.config;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcepostgres.airbyte.LogLevel;
import java.time.Duration;

/**
 * The validated configuration of one run. Built only by {@link #from}, which checks the JSON against the
 * spec first, so every value here is within its documented bounds.
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
        io.sourcepostgres.capture.TruncateHandler.Mode truncateHandling) {

    public static ConnectorConfig from(JsonNode json) {
        Spec.validate(json);
        ConnectionUri uri = ConnectionUri.parse(json.get("connectionURI").asText());
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
                text(json, "slot_name"),
                text(json, "publication_name"),
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
                io.sourcepostgres.capture.TruncateHandler.Mode.valueOf(
                        text(json, "truncate_handling").toUpperCase(java.util.Locale.ROOT)));
    }

    /** The same configuration with tail switched on (the catalog may ask for it). */
    public ConnectorConfig withTail(boolean tail) {
        return new ConnectorConfig(uri, password, slotName, publicationName, createSlot, createPublication,
                backfillChunkRows, backfillChunkBytes, tail, checkpointInterval, statementTimeout, connectTimeout,
                statusInterval, logLevel, truncateHandling);
    }

    @Override
    public String toString() {
        return "ConnectorConfig[uri=" + uri + ", slot=" + slotName + ", publication=" + publicationName + "]";
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
