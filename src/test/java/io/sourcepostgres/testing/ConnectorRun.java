package io.sourcepostgres.testing;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.stream.Collectors;

/** What one run of the connector printed, every stdout line already validated as an Airbyte message. */
public record ConnectorRun(int exitCode, List<JsonNode> messages, String stdout, String stderr) {

    public List<JsonNode> ofType(String type) {
        return messages.stream().filter(m -> type.equals(m.path("type").asText())).collect(Collectors.toList());
    }

    /** The messages of the LOG lines at {@code level} (e.g. "WARN"), in order. */
    public List<String> logs(String level) {
        return ofType("LOG").stream().map(m -> m.get("log")).filter(l -> l.path("level").asText().equals(level))
                .map(l -> l.path("message").asText()).toList();
    }

    public List<JsonNode> records() {
        return ofType("RECORD").stream().map(m -> m.get("record")).collect(Collectors.toList());
    }

    public List<JsonNode> states() {
        return ofType("STATE").stream().map(m -> m.get("state")).collect(Collectors.toList());
    }

    public List<JsonNode> traces(String traceType) {
        return ofType("TRACE").stream().map(m -> m.get("trace"))
                .filter(t -> traceType.equals(t.path("type").asText())).collect(Collectors.toList());
    }

    /** The single CONNECTION_STATUS of a check. */
    public JsonNode connectionStatus() {
        List<JsonNode> s = ofType("CONNECTION_STATUS");
        if (s.size() != 1) {
            throw new AssertionError("expected exactly one CONNECTION_STATUS, got " + s.size() + ":\n" + stdout);
        }
        return s.get(0).get("connectionStatus");
    }

    /** The single TRACE ERROR of a failed run. */
    public JsonNode error() {
        List<JsonNode> errors = traces("ERROR");
        if (errors.size() != 1) {
            throw new AssertionError("expected exactly one TRACE ERROR, got " + errors.size() + ":\n" + stdout + stderr);
        }
        return errors.get(0).get("error");
    }

    public JsonNode catalog() {
        List<JsonNode> c = ofType("CATALOG");
        if (c.size() != 1) {
            throw new AssertionError("expected exactly one CATALOG, got " + c.size() + ":\n" + stdout);
        }
        return c.get(0).get("catalog");
    }

    @Override
    public String toString() {
        return "exit " + exitCode + "\nstdout:\n" + stdout + "\nstderr:\n" + stderr;
    }
}
