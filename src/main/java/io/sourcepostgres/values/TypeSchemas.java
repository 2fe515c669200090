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
     * PostgreSQL's MAXDIM: no array value has more dimensions, whatever its column declares.
     */
    public static final int MAX_ARRAY_DIMENSIONS = 6;

    /**
     * The schema of a column: its values, {@code "null"} added to {@code type} unless the column is NOT NULL.
     *
     * @param typmod the column's {@code atttypmod} (-1 when none)
     * @param dimensions the column's declared array dimensions ({@code attndims}: 2 for {@code int[][]}). Not
     *     used: PostgreSQL does not enforce them ({@code int[][][]} stores {@code {3,4}}, {@code int[]} stores
     *     {@code {{1,2},{3,4}}}), so an array's schema admits every number of dimensions up to 6
     * @param notNull the column's {@code attnotnull}
     */
    public static ObjectNode column(PgType type, int typmod, int dimensions, boolean notNull) {
        ObjectNode schema = value(type, typmod);
        // NaN and ±Infinity are written as null (TYPES.md), so even a NOT NULL float or numeric column can hold null.
        return notNull && !nulledWhenUnrepresentable(type) ? schema : nullable(schema);
    }

    /** The schema of a non-null value of {@code type} (arrays of any number of dimensions), without "null". */
    public static ObjectNode value(PgType declared, int columnTypmod) {
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
            case ARRAY -> array(type.element(), typmod);
            case STRING -> typed("string");
        };
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
     * Arrays are written as nested JSON arrays, one level per dimension, and a column's values may have any
     * number of dimensions from 1 to 6 whatever it declares. Without {@code $ref} or {@code anyOf}, each
     * level below the outer array is a schema whose {@code type} admits both an element and an array (an
     * element's keywords, like {@code maxLength} or {@code format}, apply to elements only); the sixth level
     * holds elements only. {@code enum} would reject the arrays, so the mixed levels leave it out and only the
     * sixth keeps it. Elements may be null ({@code "null"} at every level; PostgreSQL has no null sub-arrays,
     * so that admits nothing it cannot send). The element keeps the column's typmod: for {@code varchar(5)[]}
     * the column's typmod is the element's.
     */
    private static ObjectNode array(PgType element, int typmod) {
        ObjectNode scalar = value(element, typmod);
        JsonNode scalarType = scalar.get("type");
        ObjectNode schema = typed("array");
        if (scalarType == null) {
            schema.set("items", scalar); // json elements: {} admits nested arrays already
            return schema;
        }
        if (scalar.has("items")) {
            return schema; // elements that are arrays themselves (a domain over an array): any items
        }
        ObjectNode level = nullable(scalar.deepCopy());
        for (int d = MAX_ARRAY_DIMENSIONS - 1; d >= 1; d--) {
            ObjectNode mixed = scalar.deepCopy();
            mixed.remove("enum");
            ArrayNode types = NODES.arrayNode();
            if (scalarType.isArray()) {
                scalarType.forEach(t -> types.add(t.asText()));
            } else {
                types.add(scalarType.asText());
            }
            types.add("array");
            mixed.set("type", types);
            mixed.set("items", level);
            level = nullable(mixed);
        }
        schema.set("items", level);
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
