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
        for (JsonNode required : SCHEMA.path("required")) {
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
            case "array" -> {
                if (!value.isArray()) {
                    problems.add("'" + key + "' must be a list");
                    return;
                }
                java.util.Set<JsonNode> seen = new java.util.HashSet<>();
                int i = 0;
                for (JsonNode item : value) {
                    check(key + "[" + i++ + "]", item, rule.get("items"), problems);
                    if (rule.path("uniqueItems").asBoolean() && !seen.add(item)) {
                        problems.add("'" + key + "' lists " + item + " twice");
                    }
                }
            }
            case "object" -> checkOneOf(key, value, rule, problems);
            default -> throw new IllegalStateException("spec.json uses type " + type + " for " + key);
        }
    }

    /**
     * An object whose {@code oneOf} branches each fix one discriminator property with {@code const} (Airbyte's
     * convention): the discriminator chooses the branch, whose required keys and property rules then apply. Keys a
     * branch does not list are accepted when the branch says {@code additionalProperties: true}, as Airbyte's own
     * spec does for these objects (saved Airbyte configurations carry settings of Airbyte's connector there).
     */
    private static void checkOneOf(String key, JsonNode value, JsonNode rule, List<String> problems) {
        if (!value.isObject()) {
            problems.add("'" + key + "' must be an object");
            return;
        }
        String discriminator = discriminatorOf(rule);
        JsonNode chosen = value.get(discriminator);
        List<String> allowed = new ArrayList<>();
        for (JsonNode branch : rule.get("oneOf")) {
            String constant = branch.path("properties").path(discriminator).path("const").asText();
            allowed.add(constant);
            if (chosen == null || !chosen.isTextual() || !chosen.asText().equals(constant)) {
                continue;
            }
            for (JsonNode required : branch.path("required")) {
                JsonNode v = value.get(required.asText());
                if ((v == null || v.isNull()) && !branch.path("properties").path(required.asText()).has("default")) {
                    problems.add("'" + key + "." + required.asText() + "' is required when " + discriminator + " is "
                            + constant);
                }
            }
            Iterator<Map.Entry<String, JsonNode>> fields = value.fields();
            while (fields.hasNext()) {
                Map.Entry<String, JsonNode> field = fields.next();
                JsonNode fieldRule = branch.path("properties").get(field.getKey());
                if (field.getKey().equals(discriminator) || field.getValue().isNull()) {
                    continue;
                }
                if (fieldRule == null) {
                    if (!branch.path("additionalProperties").asBoolean(false)) {
                        problems.add("'" + key + "." + field.getKey() + "' is not a known setting when " + discriminator
                                + " is " + constant + " (known: " + knownKeys(branch.get("properties")) + ")");
                    }
                    continue;
                }
                check(key + "." + field.getKey(), field.getValue(), fieldRule, problems);
            }
            return;
        }
        problems.add("'" + key + "." + discriminator + "' must be one of " + allowed);
    }

    private static String discriminatorOf(JsonNode rule) {
        Iterator<Map.Entry<String, JsonNode>> props = rule.get("oneOf").get(0).get("properties").fields();
        while (props.hasNext()) {
            Map.Entry<String, JsonNode> p = props.next();
            if (p.getValue().has("const")) {
                return p.getKey();
            }
        }
        throw new IllegalStateException("spec.json: a oneOf without a const discriminator");
    }

    /** The rule of a property inside an object's oneOf branch chosen by {@code constant}; for defaults. */
    public static JsonNode branchProperty(String key, String constant, String property) {
        JsonNode rule = SCHEMA.path("properties").path(key);
        String discriminator = discriminatorOf(rule);
        for (JsonNode branch : rule.get("oneOf")) {
            if (branch.path("properties").path(discriminator).path("const").asText().equals(constant)) {
                return branch.path("properties").path(property);
            }
        }
        throw new IllegalArgumentException(key + " has no branch " + constant);
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
