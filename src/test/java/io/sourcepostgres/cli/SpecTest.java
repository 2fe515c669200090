package io.sourcepostgres.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcepostgres.testing.Connector;
import io.sourcepostgres.testing.ConnectorRun;
import io.sourcepostgres.testing.ProtocolValidator;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SpecTest {
    private static final Set<String> FORBIDDEN = Set.of("$ref", "anyOf", "allOf", "not");

    @Test
    void specIsOneValidMessageFollowingAirbyteConventions() {
        ConnectorRun run = Connector.run("spec");
        assertThat(run.exitCode()).isZero();
        assertThat(run.messages()).hasSize(1);
        JsonNode spec = run.ofType("SPEC").get(0).get("spec");
        assertThat(ProtocolValidator.definition("ConnectorSpecification").validate(spec)).isEmpty();

        JsonNode schema = spec.get("connectionSpecification");
        ProtocolValidator.assertValidJsonSchema(schema);
        assertThat(schema.get("$schema").asText()).isEqualTo("http://json-schema.org/draft-07/schema#");
        assertThat(schema.get("required")).extracting(JsonNode::asText).containsExactly("connectionURI");
        assertThat(forbiddenKeywords(schema)).isEmpty();

        Set<Integer> orders = new HashSet<>();
        for (Map.Entry<String, JsonNode> p : iterable(schema.get("properties"))) {
            JsonNode prop = p.getValue();
            assertThat(prop.hasNonNull("title")).as(p.getKey() + " has a title").isTrue();
            assertThat(prop.path("description").asText()).as(p.getKey() + " has a description").hasSizeGreaterThan(20);
            assertThat(prop.has("order")).as(p.getKey() + " has an order").isTrue();
            assertThat(orders.add(prop.get("order").asInt())).as(p.getKey() + " order is unique").isTrue();
            if (!p.getKey().equals("connectionURI") && !p.getKey().equals("password")) {
                assertThat(prop.has("default")).as(p.getKey() + " has a default").isTrue();
            }
        }
        assertThat(schema.at("/properties/password/airbyte_secret").asBoolean()).isTrue();
        assertThat(schema.at("/properties/slot_name/default").asText()).isEqualTo("flow_slot");
        assertThat(schema.at("/properties/publication_name/default").asText()).isEqualTo("flow_publication");
        assertThat(schema.at("/properties/create_slot/default").asBoolean()).isTrue();
        assertThat(schema.at("/properties/create_publication/default").asBoolean()).isTrue();
        assertThat(schema.at("/properties/tail/default").asBoolean()).isFalse();
    }

    @Test
    void everyDefaultSatisfiesItsOwnRule() {
        JsonNode schema = Connector.run("spec").ofType("SPEC").get(0).at("/spec/connectionSpecification");
        var config = new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode();
        config.put("connectionURI", "postgres://u@h/d");
        for (Map.Entry<String, JsonNode> p : iterable(schema.get("properties"))) {
            if (p.getValue().has("default")) {
                config.set(p.getKey(), p.getValue().get("default"));
            }
        }
        assertThat(io.sourcepostgres.config.Spec.violations(config)).isEmpty();
    }

    private static List<String> forbiddenKeywords(JsonNode node) {
        List<String> found = new ArrayList<>();
        if (node.isObject()) {
            node.fields().forEachRemaining(f -> {
                if (FORBIDDEN.contains(f.getKey())) {
                    found.add(f.getKey());
                }
                found.addAll(forbiddenKeywords(f.getValue()));
            });
        } else if (node.isArray()) {
            node.forEach(n -> found.addAll(forbiddenKeywords(n)));
        }
        return found;
    }

    private static Iterable<Map.Entry<String, JsonNode>> iterable(JsonNode node) {
        return node::fields;
    }
}
