package io.sourcepostgres.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcepostgres.airbyte.ConnectorException;
import io.sourcepostgres.airbyte.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The connector's configuration schema ({@code spec.json}), and the check of a configuration against it.
 * The schema is the single source of truth: the keys, types, bounds and defaults the check applies are
 * read from it, so the spec a user sees and the rules the connector enforces cannot drift apart.
 */
public final class Spec {
    private static final ObjectNode SCHEMA = load();

    private Spec() {}

    public static ObjectNode connectionSpecification() {
        return SCHEMA.deepCopy();
    }

    /** The whole SPEC payload, as Airbyte's ConnectorSpecification. */
    public static ObjectNode connectorSpecification() {
        ObjectNode spec = Json.MAPPER.createObjectNode();
        spec.put("documentationUrl", "https://github.com/source-postgres/source-postgres#readme");
        spec.set("connectionSpecification", connectionSpecification());
        spec.put("supportsIncremental", true);
        spec.putArray("supported_destination_sync_modes").add("append").add("overwrite").add("append_dedup");
        return spec;
    }

    /** The default value of a key, as written in the spec. */
    public static JsonNode defaultOf(String key) {
        JsonNode d = SCHEMA.path("properties").path(key).get("default");
        if (d == null) {
            throw new IllegalArgumentException("spec has no default for " + key);
        }
        return d;
    }

    /** Every violation of the spec in {@code config}, each written for the user; empty when valid. */
    public static List<String> violations(JsonNode config) {
        List<String> problems = new ArrayList<>();
        if (config == null || !config.isObject()) {
            problems.add("the configuration must be a JSON object");
            return problems;
        }
        JsonNode properties = SCHEMA.get("properties");
        for (JsonNode required : SCHEMA.get("required")) {
            JsonNode v = config.get(required.asText());
            if (v == null || v.isNull()) {
                problems.add("'" + required.asText() + "' is required");
            }
        }
        Iterator<Map.Entry<String, JsonNode>> fields = config.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> field = fields.next();
            JsonNode rule = properties.get(field.getKey());
            if (rule == null) {
                problems.add("'" + field.getKey() + "' is not a known setting (known: "
                        + knownKeys(properties) + ")");
                continue;
            }
            if (!field.getValue().isNull()) {
                check(field.getKey(), field.getValue(), rule, problems);
            }
        }
        return problems;
    }

    /** Fails with a config error listing every violation. */
    public static void validate(JsonNode config) {
        List<String> problems = violations(config);
        if (!problems.isEmpty()) {
            throw ConnectorException.config("The configuration does not match the connector's spec: "
                    + String.join("; ", problems) + ". Run 'spec' to see every setting.");
        }
    }

    private static void check(String key, JsonNode value, JsonNode rule, List<String> problems) {
        String type = rule.path("type").asText();
        switch (type) {
            case "string" -> {
                if (!value.isTextual()) {
                    problems.add("'" + key + "' must be a string");
                    return;
                }
                String s = value.asText();
                if (rule.has("minLength") && s.codePointCount(0, s.length()) < rule.get("minLength").asInt()) {
                    problems.add("'" + key + "' must have at least " + rule.get("minLength").asInt() + " characters");
                }
                if (rule.has("maxLength") && s.codePointCount(0, s.length()) > rule.get("maxLength").asInt()) {
                    problems.add("'" + key + "' must have at most " + rule.get("maxLength").asInt() + " characters");
                }
                if (rule.has("pattern") && !Pattern.compile(rule.get("pattern").asText()).matcher(s).find()) {
                    // The value is not quoted: a connection URI or a secret may hold a password.
                    problems.add("'" + key + "' must match " + rule.get("pattern").asText());
                }
                if (rule.has("enum")) {
                    boolean found = false;
                    for (JsonNode e : rule.get("enum")) {
                        found |= e.asText().equals(s);
                    }
                    if (!found) {
                        problems.add("'" + key + "' must be one of " + rule.get("enum"));
                    }
                }
            }
            case "boolean" -> {
                if (!value.isBoolean()) {
                    problems.add("'" + key + "' must be true or false");
                }
            }
            case "integer" -> {
                if (!value.isIntegralNumber()) {
                    problems.add("'" + key + "' must be a whole number");
                    return;
                }
                if (rule.has("minimum") && value.asLong() < rule.get("minimum").asLong()) {
                    problems.add("'" + key + "' must be at least " + rule.get("minimum").asLong());
                }
                if (rule.has("maximum") && (!value.canConvertToLong() || value.asLong() > rule.get("maximum").asLong())) {
                    problems.add("'" + key + "' must be at most " + rule.get("maximum").asLong());
                }
            }
            default -> throw new IllegalStateException("spec.json uses type " + type + " for " + key);
        }
    }

    private static String knownKeys(JsonNode properties) {
        TreeSet<String> keys = new TreeSet<>();
        properties.fieldNames().forEachRemaining(keys::add);
        return String.join(", ", keys);
    }

    private static ObjectNode load() {
        try (InputStream in = Spec.class.getResourceAsStream("/spec.json")) {
            return (ObjectNode) Json.MAPPER.readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
