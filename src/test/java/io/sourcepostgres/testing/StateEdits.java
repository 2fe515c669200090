package io.sourcepostgres.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Iterator;

/** Edits a GLOBAL state the way an orchestrator does when it resets one stream. */
public final class StateEdits {
    private StateEdits() {}

    /** The state with {@code stream}'s {@code stream_state} set to JSON null (Airbyte's per-stream reset). */
    public static JsonNode nullStreamState(JsonNode state, String stream) {
        JsonNode copy = state.deepCopy();
        for (JsonNode entry : copy.at("/global/stream_states")) {
            if (entry.at("/stream_descriptor/name").asText().equals(stream)) {
                ((ObjectNode) entry).putNull("stream_state");
            }
        }
        return copy;
    }

    /** The state without {@code stream}'s entry in {@code stream_states}. */
    public static JsonNode withoutStream(JsonNode state, String stream) {
        JsonNode copy = state.deepCopy();
        Iterator<JsonNode> it = ((ArrayNode) copy.at("/global/stream_states")).elements();
        while (it.hasNext()) {
            if (it.next().at("/stream_descriptor/name").asText().equals(stream)) {
                it.remove();
            }
        }
        return copy;
    }

    /** The {@code stream_state} of {@code stream}, or a missing node. */
    public static JsonNode streamState(JsonNode state, String stream) {
        for (JsonNode entry : state.at("/global/stream_states")) {
            if (entry.at("/stream_descriptor/name").asText().equals(stream)) {
                return entry.path("stream_state");
            }
        }
        return com.fasterxml.jackson.databind.node.MissingNode.getInstance();
    }
}
