package io.sourcepostgres.discovery;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcepostgres.testing.Connector;
import io.sourcepostgres.testing.ConnectorRun;
import io.sourcepostgres.testing.PostgresCluster;
import io.sourcepostgres.testing.ProtocolValidator;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.StreamSupport;

/**
 * Runs {@code discover} the way an orchestrator does and checks what every catalog must satisfy: a valid
 * CATALOG message (checked by {@link Connector#run}), a valid {@code AirbyteCatalog}, and every stream's
 * {@code json_schema} a valid draft-07 JSON Schema.
 */
final class DiscoverRuns {
    static final ObjectMapper MAPPER = new ObjectMapper();

    private DiscoverRuns() {}

    static ObjectNode config(PostgresCluster pg, String database, String user, String password) {
        ObjectNode config = MAPPER.createObjectNode();
        config.put("connectionURI", pg.uri(user, null, database));
        if (password != null) {
            config.put("password", password);
        }
        return config;
    }

    /** Runs discover as the superuser with the default configuration. */
    static JsonNode discover(PostgresCluster pg, String database) {
        return discover(config(pg, database, "postgres", null));
    }

    static JsonNode discover(ObjectNode config) {
        return discoverRun(config).catalog();
    }

    /** The whole run, LOG messages included; the catalog is checked as by {@link #discover}. */
    static ConnectorRun discoverRun(ObjectNode config) {
        ConnectorRun run = Connector.run("discover", "--config", Connector.file(config).toString());
        assertThat(run.exitCode()).as(run.toString()).isZero();
        JsonNode catalog = run.catalog();
        var errors = ProtocolValidator.definition("AirbyteCatalog").validate(catalog);
        assertThat(errors).as("AirbyteCatalog violations of %s", catalog).isEmpty();
        for (JsonNode stream : catalog.get("streams")) {
            ProtocolValidator.assertValidJsonSchema(stream.get("json_schema"));
        }
        return run;
    }

    static JsonNode stream(JsonNode catalog, String namespace, String name) {
        for (JsonNode s : catalog.get("streams")) {
            if (namespace.equals(s.path("namespace").asText()) && name.equals(s.get("name").asText())) {
                return s;
            }
        }
        throw new AssertionError("no stream " + namespace + "." + name + " in " + ids(catalog));
    }

    /** The streams as "namespace.name", in catalog order. */
    static List<String> ids(JsonNode catalog) {
        List<String> ids = new ArrayList<>();
        catalog.get("streams").forEach(s -> ids.add(s.path("namespace").asText() + "." + s.get("name").asText()));
        return ids;
    }

    static List<String> propertyNames(JsonNode stream) {
        List<String> names = new ArrayList<>();
        stream.get("json_schema").get("properties").fieldNames().forEachRemaining(names::add);
        return names;
    }

    static List<List<String>> primaryKey(JsonNode stream) {
        return StreamSupport.stream(stream.get("source_defined_primary_key").spliterator(), false)
                .map(k -> StreamSupport.stream(k.spliterator(), false).map(JsonNode::asText).toList())
                .toList();
    }

    static String description(JsonNode stream) {
        return stream.get("json_schema").path("description").asText("");
    }

    static JsonNode json(String text) {
        try {
            return MAPPER.readTree(text);
        } catch (Exception e) {
            throw new IllegalArgumentException(text, e);
        }
    }

    static JsonNode json(Map<String, ?> value) {
        return MAPPER.valueToTree(value);
    }
}
