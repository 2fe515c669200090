package io.sourcepostgres.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Validates messages against the official Airbyte protocol schema (a copy in test resources, see its
 * SOURCE.md), and records against their stream's JSON Schema.
 */
public final class ProtocolValidator {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final JsonSchemaFactory FACTORY = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V7);
    private static final JsonSchema MESSAGE_SCHEMA = definition("AirbyteMessage");
    private static final JsonSchema DRAFT7_META = FACTORY.getSchema(
            java.net.URI.create("http://json-schema.org/draft-07/schema#"));

    private ProtocolValidator() {}

    /** Fails with every violation if {@code message} is not a valid AirbyteMessage. */
    public static void assertValidMessage(JsonNode message) {
        Set<ValidationMessage> errors = MESSAGE_SCHEMA.validate(message);
        if (!errors.isEmpty()) {
            throw new AssertionError("not a valid Airbyte message: " + describe(errors) + "\n  " + message);
        }
    }

    /** A schema for one definition of the protocol, e.g. "ConnectorSpecification" or "AirbyteCatalog". */
    public static JsonSchema definition(String name) {
        ObjectNode protocol = load();
        ObjectNode wrapper = MAPPER.createObjectNode();
        wrapper.put("$schema", "http://json-schema.org/draft-07/schema#");
        wrapper.put("$ref", "#/definitions/" + name);
        wrapper.set("definitions", protocol.get("definitions"));
        return FACTORY.getSchema(wrapper);
    }

    /** Fails unless {@code schema} is itself a valid draft-07 JSON Schema. */
    public static void assertValidJsonSchema(JsonNode schema) {
        Set<ValidationMessage> errors = DRAFT7_META.validate(schema);
        if (!errors.isEmpty()) {
            throw new AssertionError("not a valid draft-07 JSON Schema: " + describe(errors) + "\n  " + schema);
        }
        FACTORY.getSchema(schema); // and compiles
    }

    /**
     * Airbyte treats {@code format} as a hint (timestamps without zone, BC dates and years past 9999 are
     * valid values of its formats), so format assertions are off for record data.
     */
    private static final com.networknt.schema.SchemaValidatorsConfig DATA_CONFIG =
            com.networknt.schema.SchemaValidatorsConfig.builder().formatAssertionsEnabled(false).build();

    /** Fails unless {@code data} validates against {@code streamSchema}. */
    public static void assertMatchesSchema(JsonNode data, JsonNode streamSchema) {
        Set<ValidationMessage> errors = FACTORY.getSchema(streamSchema, DATA_CONFIG).validate(data);
        if (!errors.isEmpty()) {
            throw new AssertionError("record does not match its stream schema: " + describe(errors) + "\n  data: " + data);
        }
    }

    private static String describe(Set<ValidationMessage> errors) {
        return errors.stream().map(ValidationMessage::getMessage).sorted().collect(Collectors.joining("; "));
    }

    private static ObjectNode load() {
        try (InputStream in = ProtocolValidator.class.getResourceAsStream("/airbyte-protocol/airbyte_protocol.json")) {
            ObjectNode node = (ObjectNode) MAPPER.readTree(in);
            node.remove("$id"); // points at a stale URL; nothing must be fetched
            return node;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
