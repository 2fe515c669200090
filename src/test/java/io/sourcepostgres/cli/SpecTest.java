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
    /** Settings that describe the database itself: nothing sensible to default to. */
    private static final Set<String> NO_DEFAULT = Set.of("connectionURI", "password", "host", "database", "username",
            "schemas", "jdbc_url_params", "ssl_mode", "replication_method", "tunnel_method");

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
        // One of two forms (connectionURI, or Airbyte's host/database/username) is required; the connector checks it.
        assertThat(schema.has("required")).isFalse();
        assertThat(forbiddenKeywords(schema)).isEmpty();
        assertThat(oneOfsWithoutConstDiscriminator(schema)).isEmpty();

        Set<Integer> orders = new HashSet<>();
        for (Map.Entry<String, JsonNode> p : iterable(schema.get("properties"))) {
            JsonNode prop = p.getValue();
            assertThat(prop.hasNonNull("title")).as(p.getKey() + " has a title").isTrue();
            assertThat(prop.path("description").asText()).as(p.getKey() + " has a description").hasSizeGreaterThan(20);
            assertThat(prop.has("order")).as(p.getKey() + " has an order").isTrue();
            assertThat(orders.add(prop.get("order").asInt())).as(p.getKey() + " order is unique").isTrue();
            if (!NO_DEFAULT.contains(p.getKey())) {
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

    @Test
    void airbyteFieldsKeepAirbytesNamesTitlesAndOrder() {
        JsonNode p = Connector.run("spec").ofType("SPEC").get(0).at("/spec/connectionSpecification/properties");
        assertThat(p.at("/host/order").asInt()).isZero();
        assertThat(p.at("/port/order").asInt()).isEqualTo(1);
        assertThat(p.at("/port/default").asInt()).isEqualTo(5432);
        assertThat(p.at("/database/order").asInt()).isEqualTo(2);
        assertThat(p.at("/schemas/order").asInt()).isEqualTo(3);
        assertThat(p.at("/username/order").asInt()).isEqualTo(4);
        assertThat(p.at("/password/order").asInt()).isEqualTo(5);
        assertThat(p.at("/jdbc_url_params/order").asInt()).isEqualTo(6);
        assertThat(p.at("/ssl_mode/order").asInt()).isEqualTo(8);
        assertThat(p.at("/ssl_mode/title").asText()).isEqualTo("SSL Modes");
        assertThat(p.at("/replication_method/order").asInt()).isEqualTo(9);
        assertThat(p.at("/replication_method/title").asText()).isEqualTo("Update Method");
        assertThat(p.at("/tunnel_method/title").asText()).isEqualTo("SSH Tunnel Method");
        List<String> modes = new ArrayList<>();
        p.at("/ssl_mode/oneOf").forEach(b -> modes.add(b.at("/properties/mode/const").asText()));
        assertThat(modes).containsExactly("disable", "allow", "prefer", "require", "verify-ca", "verify-full");
        JsonNode verifyFull = p.at("/ssl_mode/oneOf/5/properties");
        for (String secret : List.of("ca_certificate", "client_certificate", "client_key", "client_key_password")) {
            assertThat(verifyFull.path(secret).path("airbyte_secret").asBoolean()).as(secret).isTrue();
        }
        JsonNode cdc = p.at("/replication_method/oneOf/0/properties");
        assertThat(cdc.at("/method/const").asText()).isEqualTo("CDC");
        assertThat(cdc.at("/replication_slot/title").asText()).isEqualTo("Replication Slot");
        assertThat(cdc.at("/publication/title").asText()).isEqualTo("Publication");
        List<String> tunnels = new ArrayList<>();
        p.at("/tunnel_method/oneOf").forEach(b -> tunnels.add(b.at("/properties/tunnel_method/const").asText()));
        assertThat(tunnels).containsExactly("NO_TUNNEL", "SSH_KEY_AUTH", "SSH_PASSWORD_AUTH");
        assertThat(p.at("/tunnel_method/oneOf/1/properties/ssh_key/airbyte_secret").asBoolean()).isTrue();
        assertThat(p.at("/tunnel_method/oneOf/1/properties/tunnel_port/default").asInt()).isEqualTo(22);
        assertThat(p.at("/tunnel_method/oneOf/2/properties/tunnel_user_password/airbyte_secret").asBoolean()).isTrue();
    }

    /** Airbyte's UI renders a oneOf only when every branch fixes the same property with const. */
    private static List<String> oneOfsWithoutConstDiscriminator(JsonNode node) {
        List<String> found = new ArrayList<>();
        if (node.isObject()) {
            if (node.has("oneOf")) {
                Set<String> discriminators = new HashSet<>();
                for (JsonNode branch : node.get("oneOf")) {
                    assertThat(branch.hasNonNull("title")).as("every oneOf branch has a title").isTrue();
                    branch.get("properties").fields().forEachRemaining(f -> {
                        if (f.getValue().has("const")) {
                            discriminators.add(f.getKey());
                        }
                    });
                }
                if (discriminators.size() != 1) {
                    found.add(node.path("title").asText());
                }
            }
            node.fields().forEachRemaining(f -> found.addAll(oneOfsWithoutConstDiscriminator(f.getValue())));
        } else if (node.isArray()) {
            node.forEach(n -> found.addAll(oneOfsWithoutConstDiscriminator(n)));
        }
        return found;
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
