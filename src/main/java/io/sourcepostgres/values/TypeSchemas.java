package io.sourcepostgres.values;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The JSON Schema of a column's values (TYPES.md), chosen by {@link TypeFamily} so that it always describes
 * what the family's encoder writes. Plain Airbyte conventions only ({@code type}, {@code format},
 * {@code airbyte_type}, {@code items}, {@code enum}): no {@code $ref}, {@code anyOf}, {@code allOf} or
 * {@code not}. Every call returns a fresh node the caller may change.
 */
public final class TypeSchemas {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private TypeSchemas() {}

    /**
     * The schema of a column: its values, {@code "null"} added to {@code type} unless the column is NOT NULL.
     *
     * @param typmod the column's {@code atttypmod} (-1 when none)
     * @param dimensions the column's declared array dimensions ({@code attndims}: 2 for {@code int[][]});
     *     0 or 1 give a one-dimensional array, and it is ignored for a type that is not an array
     * @param notNull the column's {@code attnotnull}
     */
    public static ObjectNode column(PgType type, int typmod, int dimensions, boolean notNull) {
        ObjectNode schema = value(type, typmod, Math.max(1, dimensions));
        // NaN and ±Infinity are written as null (TYPES.md), so even a NOT NULL float or numeric column can hold null.
        return notNull && !nulledWhenUnrepresentable(type) ? schema : nullable(schema);
    }

    /** The schema of a non-null value of {@code type} (arrays one-dimensional), without "null". */
    public static ObjectNode value(PgType type, int typmod) {
        return value(type, typmod, 1);
    }

    /**
     * Whether the encoder of this type's family writes null for some non-null values (NaN, ±Infinity)
     * and flags them in {@code meta.changes}.
     */
    public static boolean nulledWhenUnrepresentable(PgType type) {
        TypeFamily family = TypeFamily.of(type);
        return family == TypeFamily.FLOAT || family == TypeFamily.NUMERIC;
    }

    /** Lets {@code schema} also accept null: adds "null" to its {@code type}, and to its {@code enum} if it has one. */
    public static ObjectNode nullable(ObjectNode schema) {
        JsonNode type = schema.get("type");
        if (type == null) {
            return schema; // a schema without a type, like {} for json, already accepts null
        }
        if (type.isTextual()) {
            ArrayNode types = NODES.arrayNode().add(type.asText()).add("null");
            schema.set("type", types);
        } else if (type.isArray() && !contains((ArrayNode) type, "null")) {
            ((ArrayNode) type).add("null");
        }
        JsonNode labels = schema.get("enum");
        if (labels instanceof ArrayNode list && !containsNull(list)) {
            list.addNull();
        }
        return schema;
    }

    private static ObjectNode value(PgType declared, int columnTypmod, int dimensions) {
        int typmod = declared.effectiveTypmod(columnTypmod);
        PgType type = declared.withoutDomains();
        return switch (TypeFamily.of(type)) {
            case BOOLEAN -> typed("boolean");
            case INTEGER -> typed("integer");
            case FLOAT, MONEY -> typed("number");
            case NUMERIC -> numeric(typmod);
            case TEXT -> text(typmod);
            case BYTEA -> typed("string").put("contentEncoding", "base64");
            case UUID -> typed("string").put("format", "uuid");
            case JSON -> NODES.objectNode(); // any JSON value
            case DATE -> typed("string").put("format", "date");
            case TIMESTAMP -> dateTime("date-time", "timestamp_without_timezone");
            case TIMESTAMPTZ -> dateTime("date-time", "timestamp_with_timezone");
            case TIME -> dateTime("time", "time_without_timezone");
            case TIMETZ -> dateTime("time", "time_with_timezone");
            case INTERVAL -> typed("string");
            case HSTORE -> hstore();
            case ENUM -> enumeration(type);
            case ARRAY -> array(type.element(), typmod, dimensions);
            case STRING -> typed("string");
        };
    }

    private static ObjectNode numeric(int typmod) {
        // numeric(p,0) (and a negative scale, PostgreSQL 15+) only holds whole numbers.
        boolean whole = Typmods.numericPrecision(typmod) >= 0 && Typmods.numericScale(typmod) <= 0;
        return typed(whole ? "integer" : "number");
    }

    private static ObjectNode text(int typmod) {
        ObjectNode schema = typed("string");
        int length = Typmods.characterLength(typmod);
        if (length >= 0) {
            schema.put("maxLength", length);
        }
        return schema;
    }

    private static ObjectNode dateTime(String format, String airbyteType) {
        return typed("string").put("format", format).put("airbyte_type", airbyteType);
    }

    private static ObjectNode hstore() {
        ObjectNode schema = typed("object");
        schema.set("additionalProperties", nullable(typed("string")));
        return schema;
    }

    private static ObjectNode enumeration(PgType type) {
        ObjectNode schema = typed("string");
        // An enum without labels holds no value yet; "enum": [] would also reject labels added later.
        if (!type.enumLabels().isEmpty()) {
            ArrayNode labels = schema.putArray("enum");
            type.enumLabels().forEach(labels::add);
        }
        return schema;
    }

    /**
     * Arrays are written as nested JSON arrays, one level per dimension; only the innermost elements can be
     * null (PostgreSQL has no null sub-arrays). The element keeps the column's typmod: for
     * {@code varchar(5)[]} the column's typmod is the element's.
     */
    private static ObjectNode array(PgType element, int typmod, int dimensions) {
        ObjectNode schema = typed("array");
        schema.set("items", nullable(value(element, typmod, 1)));
        for (int d = 1; d < dimensions; d++) {
            ObjectNode outer = typed("array");
            outer.set("items", schema);
            schema = outer;
        }
        return schema;
    }

    private static ObjectNode typed(String type) {
        return NODES.objectNode().put("type", type);
    }

    private static boolean contains(ArrayNode array, String value) {
        for (JsonNode n : array) {
            if (n.isTextual() && n.asText().equals(value)) {
                return true;
            }
        }
        return false;
    }

    private static boolean containsNull(ArrayNode array) {
        for (JsonNode n : array) {
            if (n.isNull()) {
                return true;
            }
        }
        return false;
    }
}
