package io.sourcepostgres.airbyte;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The configured catalog of a {@code read}: which streams to capture, how, and whether to stream
 * forever. Only its shape is checked here; whether each stream exists is checked against the database.
 */
public record ConfiguredCatalog(List<ConfiguredStream> streams, boolean tail) {

    public enum SyncMode { FULL_REFRESH, INCREMENTAL }

    /**
     * @param id the table
     * @param syncMode full_refresh (re-read every run, not replicated) or incremental (backfill, then changes)
     * @param primaryKey the catalog's primary_key override: column names in key order; empty when not set
     * @param selectedColumns the table columns the stream's {@code json_schema} lists (Airbyte's column
     *     selection: only these leave the database, key columns always); null when it lists no properties,
     *     which selects every column
     */
    public record ConfiguredStream(StreamId id, SyncMode syncMode, List<String> primaryKey, Set<String> selectedColumns) {

        public ConfiguredStream(StreamId id, SyncMode syncMode, List<String> primaryKey) {
            this(id, syncMode, primaryKey, null);
        }

        /** Whether the stream emits {@code column}: selected, or every column when none are listed. */
        public boolean selects(String column) {
            return selectedColumns == null || selectedColumns.contains(column);
        }
    }

    public static ConfiguredCatalog fromJson(JsonNode json) {
        if (json == null || !json.isObject()) {
            throw bad("it must be a JSON object with a \"streams\" array");
        }
        JsonNode list = json.get("streams");
        if (list == null || !list.isArray()) {
            throw bad("it has no \"streams\" array");
        }
        boolean tail = flag(json, "estuary.dev/tail") || flag(json, "tail");
        List<ConfiguredStream> streams = new ArrayList<>();
        Set<StreamId> seen = new HashSet<>();
        for (JsonNode entry : list) {
            JsonNode stream = entry.get("stream");
            if (stream == null || !stream.path("name").isTextual()) {
                throw bad("a configured stream has no stream.name");
            }
            StreamId id = new StreamId(stream.path("namespace").isTextual() ? stream.get("namespace").asText() : null,
                    stream.get("name").asText());
            if (!seen.add(id)) {
                throw bad("stream " + id + " is configured twice");
            }
            String mode = entry.path("sync_mode").asText("");
            SyncMode syncMode = switch (mode) {
                case "incremental" -> SyncMode.INCREMENTAL;
                case "full_refresh" -> SyncMode.FULL_REFRESH;
                default -> throw bad("stream " + id + " has sync_mode '" + mode
                        + "'; this source supports \"incremental\" and \"full_refresh\"");
            };
            JsonNode supported = stream.get("supported_sync_modes");
            if (supported != null && supported.isArray() && !supported.isEmpty()
                    && java.util.stream.StreamSupport.stream(supported.spliterator(), false).noneMatch(m -> m.asText().equals(mode))) {
                // The catalog says the stream cannot be read that way: an edited or stale catalog, never run blindly.
                throw bad("stream " + id + " has sync_mode '" + mode + "', which is not among its supported_sync_modes "
                        + supported + "; choose one of those (run discover for the current catalog)");
            }
            streams.add(new ConfiguredStream(id, syncMode, primaryKey(id, entry.get("primary_key")),
                    ColumnSelection.of(stream.get("json_schema"))));
            tail |= flag(entry, "estuary.dev/tail") || flag(stream, "estuary.dev/tail");
        }
        return new ConfiguredCatalog(List.copyOf(streams), tail);
    }

    private static List<String> primaryKey(StreamId id, JsonNode pk) {
        List<String> columns = new ArrayList<>();
        if (pk == null || pk.isNull()) {
            return columns;
        }
        if (!pk.isArray()) {
            throw bad("stream " + id + " has a primary_key that is not an array of arrays of column names");
        }
        for (JsonNode path : pk) {
            if (!path.isArray() || path.size() != 1 || !path.get(0).isTextual()) {
                throw bad("stream " + id + " has primary_key entry " + path + "; each entry must name exactly one "
                        + "top-level column, e.g. [[\"id\"]] or [[\"tenant\"],[\"id\"]]");
            }
            columns.add(path.get(0).asText());
        }
        return columns;
    }

    private static boolean flag(JsonNode node, String name) {
        return node != null && node.path(name).asBoolean(false);
    }

    private static ConnectorException bad(String why) {
        return ConnectorException.config("The catalog cannot be used: " + why + ".");
    }
}
