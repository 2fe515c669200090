package io.sourcepostgres.state;

import io.sourcepostgres.airbyte.GlobalState;
import io.sourcepostgres.airbyte.ConnectorException;
import io.sourcepostgres.airbyte.Json;
import io.sourcepostgres.airbyte.StreamId;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcepostgres.pgoutput.Lsn;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The connector's state as Airbyte GLOBAL state, both ways. {@code shared_state} holds the replication
 * position and what identifies the server and slot it belongs to; each {@code stream_states} entry holds
 * that stream's backfill progress. Reading accepts what orchestrators pass back: the array of state
 * messages Airbyte sends, one state message, the {@code global} object alone, or an empty object.
 */
public final class StateCodec {
    /** Bumped whenever the meaning of the state changes; a state of another version is refused. */
    public static final int STATE_VERSION = 1;

    private StateCodec() {}

    /** The {@code stream_states} array of {@code state}. */
    public static ArrayNode streamStates(CaptureState state) {
        return streamStates(state.streams());
    }

    /** The {@code stream_states} array of these streams' progress. */
    public static ArrayNode streamStates(Map<StreamId, StreamProgress> progressByStream) {
        ArrayNode streams = Json.MAPPER.createArrayNode();
        for (Map.Entry<StreamId, StreamProgress> e : progressByStream.entrySet()) {
            ObjectNode entry = streams.addObject();
            ObjectNode descriptor = entry.putObject("stream_descriptor");
            descriptor.put("name", e.getKey().name());
            if (e.getKey().namespace() != null) {
                descriptor.put("namespace", e.getKey().namespace());
            }
            ObjectNode progress = entry.putObject("stream_state");
            StreamProgress p = e.getValue();
            progress.put("phase", p.phase().name().toLowerCase(Locale.ROOT));
            if (p.resumeAfter() != null) {
                progress.set("resume_after", p.resumeAfter());
            }
            if (p.rowsDone() > 0) {
                progress.put("rows_done", p.rowsDone());
            }
            if (p.scanKey() != null) {
                progress.set("scan_key", p.scanKey());
            }
            if (p.relationOid() != 0) {
                progress.put("relation_oid", p.relationOid());
            }
            if (p.publicationMembership() != null) {
                progress.put("publication", p.publicationMembership());
            }
            if (p.partitions() != null) {
                progress.put("partitions", p.partitions());
            }
        }
        return streams;
    }

    /** The STATE message for {@code state}, its {@code stream_states} array given already encoded. */
    public static GlobalState message(CaptureState state, String streamStatesJson, long recordCount) {
        return message(state.position(), state.systemIdentifier(), state.slotName(), state.timeline(),
                state.unsentImages(), streamStatesJson, recordCount);
    }

    /** The same from the state's parts: a state per commit need not build a {@link CaptureState} (a copy of the streams). */
    public static GlobalState message(long position, String systemIdentifier, String slotName, int timeline,
            JsonNode unsentImages, String streamStatesJson, long recordCount) {
        return new GlobalState(STATE_VERSION, Lsn.format(position), systemIdentifier, slotName, timeline,
                unsentImages == null || unsentImages.isEmpty() ? null : unsentImages.toString(), streamStatesJson,
                recordCount);
    }

    /** Parses a --state file's JSON; empty when it holds no state yet. */
    public static Optional<CaptureState> fromJson(JsonNode json) {
        JsonNode global = findGlobal(json);
        if (global == null) {
            return Optional.empty();
        }
        JsonNode shared = global.get("shared_state");
        if (shared == null || !shared.isObject()) {
            throw garbage("its GLOBAL state has no shared_state object");
        }
        JsonNode version = shared.get("state_version");
        if (version == null || !version.isInt()) {
            throw garbage("shared_state has no state_version: it was not written by this connector");
        }
        if (version.asInt() != STATE_VERSION) {
            throw ConnectorException.config("The state was written by a connector with state version " + version.asInt()
                    + "; this connector reads version " + STATE_VERSION + ". Run the connector version that wrote it, "
                    + "or reset the connection to start over with a fresh backfill.");
        }
        long position;
        try {
            position = Lsn.parse(text(shared, "position"));
        } catch (IllegalArgumentException e) {
            throw garbage("shared_state.position '" + shared.path("position").asText() + "' is not an LSN like 0/16B3748");
        }
        String systemId = text(shared, "system_identifier");
        String slot = text(shared, "slot_name");
        // Absent from states written before the connector recorded the history they belong to: 0, unknown.
        JsonNode timelineNode = shared.get("timeline");
        if (timelineNode != null && !timelineNode.isNull() && (!timelineNode.canConvertToInt() || timelineNode.asInt() < 1)) {
            throw garbage("shared_state.timeline '" + timelineNode + "' is not a WAL timeline id");
        }
        int timeline = timelineNode == null || timelineNode.isNull() ? 0 : timelineNode.asInt();
        Map<StreamId, StreamProgress> streams = new LinkedHashMap<>();
        JsonNode list = global.get("stream_states");
        if (list != null && !list.isNull()) {
            if (!list.isArray()) {
                throw garbage("stream_states is not an array");
            }
            for (JsonNode entry : list) {
                JsonNode d = entry.get("stream_descriptor");
                if (d == null || !d.path("name").isTextual()) {
                    throw garbage("a stream_states entry has no stream_descriptor.name");
                }
                StreamId id = new StreamId(d.path("namespace").isTextual() ? d.get("namespace").asText() : null,
                        d.get("name").asText());
                streams.put(id, progress(id, entry.get("stream_state")));
            }
        }
        JsonNode unsent = shared.get("unsent_images");
        if (unsent != null && !unsent.isNull() && !validUnsentImages(unsent)) {
            throw garbage("shared_state.unsent_images is not a list of {namespace, stream, key, lsn, time}");
        }
        return Optional.of(new CaptureState(position, systemId, slot, timeline, streams)
                .withUnsentImages(unsent == null || unsent.isNull() ? null : unsent));
    }

    private static boolean validUnsentImages(JsonNode list) {
        if (!list.isArray()) {
            return false;
        }
        for (JsonNode i : list) {
            if (!i.path("stream").isTextual() || !i.path("key").isArray() || !i.path("lsn").canConvertToLong()
                    || !i.path("time").isTextual()) {
                return false;
            }
        }
        return true;
    }

    private static StreamProgress progress(StreamId id, JsonNode s) {
        if (s == null || s.isNull()) {
            // Airbyte's per-stream reset (or refresh): the stream starts over with a new backfill.
            return StreamProgress.PENDING;
        }
        if (!s.isObject()) {
            throw garbage("stream " + id + " has no stream_state object");
        }
        String phase = s.path("phase").asText("");
        StreamProgress.Phase p;
        try {
            p = StreamProgress.Phase.valueOf(phase.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw garbage("stream " + id + " has phase '" + phase + "', not one of pending, backfilling, active");
        }
        JsonNode after = s.get("resume_after");
        if (p == StreamProgress.Phase.BACKFILLING && (after == null || !after.isArray())) {
            throw garbage("stream " + id + " is backfilling but has no resume_after key");
        }
        JsonNode scanKey = s.get("scan_key"); // absent from states written before it was recorded
        if (scanKey != null && !scanKey.isNull() && !scanKey.isArray()) {
            throw garbage("stream " + id + " has a scan_key that is not an array");
        }
        boolean backfilling = p == StreamProgress.Phase.BACKFILLING;
        JsonNode membership = s.get("publication");
        return new StreamProgress(p, backfilling ? after : null, s.path("rows_done").asLong(0),
                backfilling && scanKey != null && scanKey.isArray() ? scanKey : null,
                s.path("relation_oid").asLong(0), membership != null && membership.isTextual() ? membership.asText() : null,
                s.path("partitions").isTextual() ? s.path("partitions").asText() : null);
    }

    private static JsonNode findGlobal(JsonNode json) {
        if (json == null || json.isNull() || json.isMissingNode()) {
            return null;
        }
        if (json.isArray()) {
            if (json.isEmpty()) {
                return null;
            }
            JsonNode found = null;
            for (JsonNode message : json) {
                JsonNode g = findGlobal(message);
                if (g != null) {
                    if (found != null) {
                        throw garbage("it holds more than one GLOBAL state");
                    }
                    found = g;
                }
            }
            if (found == null) {
                throw garbage("none of its state messages is of type GLOBAL");
            }
            return found;
        }
        if (!json.isObject()) {
            throw garbage("it is neither an object nor an array of state messages");
        }
        if (json.isEmpty()) {
            return null;
        }
        if (json.has("type")) {
            String type = json.get("type").asText();
            if ("STATE".equals(type) && json.path("state").isObject()) {
                return findGlobal(json.get("state")); // a whole STATE line of the connector's output
            }
            if (!"GLOBAL".equals(type)) {
                throw garbage("its state is of type " + type + "; this connector writes and reads only GLOBAL state");
            }
            JsonNode g = json.get("global");
            if (g == null || !g.isObject()) {
                throw garbage("its GLOBAL state message has no global object");
            }
            return g;
        }
        if (json.has("global")) {
            return json.get("global");
        }
        if (json.has("shared_state")) {
            return json;
        }
        throw garbage("it is not an Airbyte state message (no type, global or shared_state)");
    }

    private static String text(JsonNode node, String field) {
        JsonNode v = node.get(field);
        if (v == null || !v.isTextual() || v.asText().isEmpty()) {
            throw garbage("shared_state." + field + " is missing");
        }
        return v.asText();
    }

    private static ConnectorException garbage(String why) {
        return ConnectorException.config("The state cannot be used: " + why + ". Pass the last STATE this connector "
                + "emitted, or no --state to start over.");
    }
}
