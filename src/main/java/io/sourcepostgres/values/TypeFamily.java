package io.sourcepostgres.values;

import java.util.Map;

/**
 * The families of PostgreSQL types that share one JSON representation. Both the JSON Schema of a column
 * and the encoder of its values are chosen by family, so the schema and the values cannot disagree.
 * Types not named here are carried as PostgreSQL's own text output ({@link #STRING}).
 */
public enum TypeFamily {
    BOOLEAN,
    /** int2, int4, int8, oid and friends: JSON integers over the full int64 range. */
    INTEGER,
    /** float4, float8: shortest round-tripping decimal; NaN and ±Infinity become null plus meta.changes. */
    FLOAT,
    /** numeric: the exact digits as a JSON number literal. */
    NUMERIC,
    /** money: an exact decimal without currency symbol or separators. */
    MONEY,
    /** char, varchar, text, name, citext, "char": the string as stored. */
    TEXT,
    BYTEA,
    UUID,
    /** json, jsonb: the JSON value itself, embedded. */
    JSON,
    DATE,
    TIMESTAMP,
    TIMESTAMPTZ,
    TIME,
    TIMETZ,
    INTERVAL,
    /** hstore: an object of strings (or nulls). */
    HSTORE,
    ENUM,
    ARRAY,
    /** Everything else: PostgreSQL's own text output as a string. */
    STRING;

    private static final Map<String, TypeFamily> BUILTIN = Map.ofEntries(
            Map.entry("bool", BOOLEAN),
            Map.entry("int2", INTEGER),
            Map.entry("int4", INTEGER),
            Map.entry("int8", INTEGER),
            Map.entry("oid", INTEGER),
            Map.entry("float4", FLOAT),
            Map.entry("float8", FLOAT),
            Map.entry("numeric", NUMERIC),
            Map.entry("money", MONEY),
            Map.entry("bpchar", TEXT),
            Map.entry("varchar", TEXT),
            Map.entry("text", TEXT),
            Map.entry("name", TEXT),
            Map.entry("char", TEXT),
            Map.entry("bytea", BYTEA),
            Map.entry("uuid", UUID),
            Map.entry("json", JSON),
            Map.entry("jsonb", JSON),
            Map.entry("date", DATE),
            Map.entry("timestamp", TIMESTAMP),
            Map.entry("timestamptz", TIMESTAMPTZ),
            Map.entry("time", TIME),
            Map.entry("timetz", TIMETZ),
            Map.entry("interval", INTERVAL));

    /** The family of a type, looking through domains. */
    public static TypeFamily of(PgType type) {
        PgType t = type.withoutDomains();
        if (t.isArray()) {
            return ARRAY;
        }
        if (t.isEnum()) {
            return ENUM;
        }
        if ("pg_catalog".equals(t.namespace())) {
            return BUILTIN.getOrDefault(t.name(), STRING);
        }
        // Extension types live in whatever schema the extension was installed into.
        return switch (t.name()) {
            case "citext" -> TEXT;
            case "hstore" -> HSTORE;
            default -> STRING;
        };
    }
}
