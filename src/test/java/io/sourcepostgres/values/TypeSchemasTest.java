package io.sourcepostgres.values;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import org.junit.jupiter.api.Test;

class TypeSchemasTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private static final PgType INT4 = PgType.builtin(23, "int4", 'N');
    private static final PgType NUMERIC = PgType.builtin(1700, "numeric", 'N');
    private static final PgType VARCHAR = PgType.builtin(1043, "varchar", 'S');
    private static final PgType BPCHAR = PgType.builtin(1042, "bpchar", 'S');
    private static final PgType MOOD = new PgType(90001, "public", "mood", 'e', 'E', null, null,
            List.of("sad", "ok", "happy"));

    /** numeric(p,s) as PostgreSQL stores it in atttypmod. */
    private static int numericTypmod(int precision, int scale) {
        return ((precision << 16) | (scale & 0x7ff)) + 4;
    }

    private static JsonNode json(String text) {
        try {
            return MAPPER.readTree(text);
        } catch (Exception e) {
            throw new IllegalArgumentException(text, e);
        }
    }

    private static JsonNode value(PgType type) {
        return TypeSchemas.value(type, -1);
    }

    @Test
    void eachBuiltinFamilyHasTheSchemaOfTypesMd() {
        assertThat(value(PgType.builtin(16, "bool", 'B'))).isEqualTo(json("{\"type\":\"boolean\"}"));
        for (String name : List.of("int2", "int4", "int8", "oid")) {
            assertThat(value(PgType.builtin(1, name, 'N'))).as(name).isEqualTo(json("{\"type\":\"integer\"}"));
        }
        for (String name : List.of("float4", "float8", "money", "numeric")) {
            assertThat(value(PgType.builtin(1, name, 'N'))).as(name).isEqualTo(json("{\"type\":\"number\"}"));
        }
        for (String name : List.of("text", "varchar", "bpchar", "name", "char")) {
            assertThat(value(PgType.builtin(1, name, 'S'))).as(name).isEqualTo(json("{\"type\":\"string\"}"));
        }
        assertThat(value(PgType.builtin(17, "bytea", 'U')))
                .isEqualTo(json("{\"type\":\"string\",\"contentEncoding\":\"base64\"}"));
        assertThat(value(PgType.builtin(2950, "uuid", 'U'))).isEqualTo(json("{\"type\":\"string\",\"format\":\"uuid\"}"));
        assertThat(value(PgType.builtin(114, "json", 'U'))).isEqualTo(json("{}"));
        assertThat(value(PgType.builtin(3802, "jsonb", 'U'))).isEqualTo(json("{}"));
        assertThat(value(PgType.builtin(1082, "date", 'D'))).isEqualTo(json("{\"type\":\"string\",\"format\":\"date\"}"));
        assertThat(value(PgType.builtin(1114, "timestamp", 'D'))).isEqualTo(json(
                "{\"type\":\"string\",\"format\":\"date-time\",\"airbyte_type\":\"timestamp_without_timezone\"}"));
        assertThat(value(PgType.builtin(1184, "timestamptz", 'D'))).isEqualTo(json(
                "{\"type\":\"string\",\"format\":\"date-time\",\"airbyte_type\":\"timestamp_with_timezone\"}"));
        assertThat(value(PgType.builtin(1083, "time", 'D'))).isEqualTo(json(
                "{\"type\":\"string\",\"format\":\"time\",\"airbyte_type\":\"time_without_timezone\"}"));
        assertThat(value(PgType.builtin(1266, "timetz", 'D'))).isEqualTo(json(
                "{\"type\":\"string\",\"format\":\"time\",\"airbyte_type\":\"time_with_timezone\"}"));
        assertThat(value(PgType.builtin(1186, "interval", 'T'))).isEqualTo(json("{\"type\":\"string\"}"));
    }

    @Test
    void everythingElseIsPostgresqlsTextOutputAsAString() {
        for (String name : List.of("inet", "cidr", "macaddr", "macaddr8", "bit", "varbit", "xml", "tsvector", "tsquery",
                "pg_lsn", "point", "polygon", "int4range", "int4multirange", "regclass", "xid", "int2vector")) {
            assertThat(value(PgType.builtin(1, name, 'U'))).as(name).isEqualTo(json("{\"type\":\"string\"}"));
        }
        PgType composite = new PgType(90002, "public", "address", 'c', 'C', null, null, List.of());
        assertThat(value(composite)).isEqualTo(json("{\"type\":\"string\"}"));
        PgType ltree = new PgType(90003, "public", "ltree", 'b', 'U', null, null, List.of());
        assertThat(value(ltree)).isEqualTo(json("{\"type\":\"string\"}"));
    }

    @Test
    void extensionTypesAreRecognisedInWhateverSchemaTheyWereInstalled() {
        PgType citext = new PgType(90004, "extensions", "citext", 'b', 'S', null, null, List.of());
        assertThat(value(citext)).isEqualTo(json("{\"type\":\"string\"}"));
        PgType hstore = new PgType(90005, "extensions", "hstore", 'b', 'U', null, null, List.of());
        assertThat(value(hstore)).isEqualTo(json(
                "{\"type\":\"object\",\"additionalProperties\":{\"type\":[\"string\",\"null\"]}}"));
        // A user type that happens to be named like a built-in outside pg_catalog is not one.
        assertThat(value(new PgType(90006, "public", "int4", 'b', 'U', null, null, List.of())))
                .isEqualTo(json("{\"type\":\"string\"}"));
    }

    @Test
    void numericTypmodDecodesPrecisionAndScale() {
        assertThat(Typmods.numericPrecision(numericTypmod(10, 2))).isEqualTo(10);
        assertThat(Typmods.numericScale(numericTypmod(10, 2))).isEqualTo(2);
        assertThat(Typmods.numericPrecision(numericTypmod(1000, 1000))).isEqualTo(1000);
        assertThat(Typmods.numericScale(numericTypmod(1000, 1000))).isEqualTo(1000);
        // PostgreSQL 15+: numeric(5,-3) rounds to thousands; the scale is an 11-bit two's-complement number.
        assertThat(Typmods.numericPrecision(numericTypmod(5, -3))).isEqualTo(5);
        assertThat(Typmods.numericScale(numericTypmod(5, -3))).isEqualTo(-3);
        assertThat(Typmods.numericPrecision(-1)).isEqualTo(-1);
        // the values a PostgreSQL 17 server stores for numeric(12,4) and numeric(3,0)
        assertThat(Typmods.numericScale(786440)).isEqualTo(4);
        assertThat(Typmods.numericPrecision(786440)).isEqualTo(12);
        assertThat(Typmods.numericScale(196612)).isZero();
    }

    @Test
    void numericWithoutFractionalDigitsIsAnInteger() {
        assertThat(TypeSchemas.value(NUMERIC, numericTypmod(10, 0))).isEqualTo(json("{\"type\":\"integer\"}"));
        assertThat(TypeSchemas.value(NUMERIC, numericTypmod(5, -3))).isEqualTo(json("{\"type\":\"integer\"}"));
        assertThat(TypeSchemas.value(NUMERIC, numericTypmod(10, 2))).isEqualTo(json("{\"type\":\"number\"}"));
        assertThat(TypeSchemas.value(NUMERIC, -1)).isEqualTo(json("{\"type\":\"number\"}"));
    }

    @Test
    void characterTypmodGivesMaxLength() {
        assertThat(Typmods.characterLength(14)).isEqualTo(10);
        assertThat(Typmods.characterLength(-1)).isEqualTo(-1);
        assertThat(TypeSchemas.value(VARCHAR, 14)).isEqualTo(json("{\"type\":\"string\",\"maxLength\":10}"));
        assertThat(TypeSchemas.value(BPCHAR, 5)).isEqualTo(json("{\"type\":\"string\",\"maxLength\":1}"));
        assertThat(TypeSchemas.value(VARCHAR, -1)).isEqualTo(json("{\"type\":\"string\"}"));
    }

    @Test
    void nullableColumnsAddNullToTheTypeAndNotNullColumnsDoNot() {
        assertThat(TypeSchemas.column(INT4, -1, 0, true)).isEqualTo(json("{\"type\":\"integer\"}"));
        assertThat(TypeSchemas.column(INT4, -1, 0, false)).isEqualTo(json("{\"type\":[\"integer\",\"null\"]}"));
        assertThat(TypeSchemas.column(VARCHAR, 14, 0, false))
                .isEqualTo(json("{\"type\":[\"string\",\"null\"],\"maxLength\":10}"));
        // {} already accepts null
        assertThat(TypeSchemas.column(PgType.builtin(3802, "jsonb", 'U'), -1, 0, false)).isEqualTo(json("{}"));
    }

    @Test
    void floatsAndNumericsMayBeNullEvenWhenNotNullBecauseNanIsWrittenAsNull() {
        assertThat(TypeSchemas.column(PgType.builtin(701, "float8", 'N'), -1, 0, true))
                .isEqualTo(json("{\"type\":[\"number\",\"null\"]}"));
        assertThat(TypeSchemas.column(NUMERIC, numericTypmod(8, 0), 0, true))
                .isEqualTo(json("{\"type\":[\"integer\",\"null\"]}"));
        assertThat(TypeSchemas.column(PgType.builtin(790, "money", 'N'), -1, 0, true)).isEqualTo(json("{\"type\":\"number\"}"));
    }

    @Test
    void enumsListTheirLabelsAndANullableEnumAlsoListsNull() {
        assertThat(TypeSchemas.column(MOOD, -1, 0, true))
                .isEqualTo(json("{\"type\":\"string\",\"enum\":[\"sad\",\"ok\",\"happy\"]}"));
        assertThat(TypeSchemas.column(MOOD, -1, 0, false))
                .isEqualTo(json("{\"type\":[\"string\",\"null\"],\"enum\":[\"sad\",\"ok\",\"happy\",null]}"));
        PgType empty = new PgType(90007, "public", "nothing_yet", 'e', 'E', null, null, List.of());
        assertThat(TypeSchemas.column(empty, -1, 0, true)).isEqualTo(json("{\"type\":\"string\"}"));
    }

    @Test
    void domainsHaveTheirBaseTypesSchemaAndTypmod() {
        // CREATE DOMAIN code AS varchar(8); CREATE DOMAIN short_code AS code;
        PgType code = new PgType(90010, "public", "code", 'd', 'S', null, VARCHAR, List.of(), 12);
        PgType shortCode = new PgType(90011, "public", "short_code", 'd', 'S', null, code, List.of());
        assertThat(TypeSchemas.value(shortCode, -1)).isEqualTo(json("{\"type\":\"string\",\"maxLength\":8}"));
        assertThat(shortCode.effectiveTypmod(-1)).isEqualTo(12);
        PgType amount = new PgType(90012, "public", "amount", 'd', 'N', null, NUMERIC, List.of(), numericTypmod(12, 0));
        assertThat(TypeSchemas.column(amount, -1, 0, false)).isEqualTo(json("{\"type\":[\"integer\",\"null\"]}"));
        PgType moodDomain = new PgType(90013, "public", "mood_d", 'd', 'E', null, MOOD, List.of());
        assertThat(TypeSchemas.column(moodDomain, -1, 0, false))
                .isEqualTo(json("{\"type\":[\"string\",\"null\"],\"enum\":[\"sad\",\"ok\",\"happy\",null]}"));
    }

    /** The schema of an array whose elements are {@code elementType} plus {@code keywords}, as TypeSchemas nests it. */
    private static String anyDimensions(String outerType, String elementType, String keywords, String innermostOnly) {
        String level = "{\"type\":[\"" + elementType + "\",\"null\"]" + keywords + innermostOnly + "}";
        for (int d = 5; d >= 1; d--) {
            level = "{\"type\":[\"" + elementType + "\",\"array\",\"null\"]" + keywords + ",\"items\":" + level + "}";
        }
        return "{\"type\":" + outerType + ",\"items\":" + level + "}";
    }

    @Test
    void arraysHaveNullableItemsOfTheElementSchemaWithTheColumnsTypmod() {
        PgType ints = PgType.arrayOf(1007, INT4);
        assertThat(TypeSchemas.column(ints, -1, 1, false))
                .isEqualTo(json(anyDimensions("[\"array\",\"null\"]", "integer", "", "")));
        assertThat(TypeSchemas.column(PgType.arrayOf(1015, VARCHAR), 9, 0, true))
                .isEqualTo(json(anyDimensions("\"array\"", "string", ",\"maxLength\":5", "")));
        assertThat(TypeSchemas.value(PgType.arrayOf(90020, MOOD), -1)).isEqualTo(json(anyDimensions("\"array\"",
                "string", "", ",\"enum\":[\"sad\",\"ok\",\"happy\",null]")));
        assertThat(TypeSchemas.value(PgType.arrayOf(3807, PgType.builtin(3802, "jsonb", 'U')), -1))
                .isEqualTo(json("{\"type\":\"array\",\"items\":{}}"));
    }

    @Test
    void declaredDimensionsChangeNothingSincePostgresIgnoresThem() {
        PgType ints = PgType.arrayOf(1007, INT4);
        for (int declared = 0; declared <= 6; declared++) {
            assertThat(TypeSchemas.column(ints, -1, declared, false)).isEqualTo(TypeSchemas.column(ints, -1, 1, false));
        }
    }

    @Test
    void anArraySchemaTakesEveryNumberOfDimensionsFromOneToSixAndNoMore() {
        JsonNode schema = TypeSchemas.column(PgType.arrayOf(1007, INT4), -1, 3, false);
        assertThat(schema.toString()).doesNotContain("$ref", "anyOf", "allOf", "oneOf", "\"not\"");
        var validator = com.networknt.schema.JsonSchemaFactory.getInstance(
                com.networknt.schema.SpecVersion.VersionFlag.V7).getSchema(schema);
        for (String valid : List.of("null", "[]", "[1,null]", "[[1,2,3],[4,5,6]]", "[[[1],[2]],[[3],[null]]]",
                "[[[[[[1,2]],[[3,null]]]]]]")) {
            assertThat(validator.validate(json(valid))).as(valid).isEmpty();
        }
        for (String invalid : List.of("1", "[\"a\"]", "[[\"a\"]]", "[[[[[[[1]]]]]]]")) {
            assertThat(validator.validate(json(invalid))).as(invalid).isNotEmpty();
        }
        JsonNode moods = TypeSchemas.column(PgType.arrayOf(90020, MOOD), -1, 1, true);
        var moodValidator = com.networknt.schema.JsonSchemaFactory.getInstance(
                com.networknt.schema.SpecVersion.VersionFlag.V7).getSchema(moods);
        assertThat(moodValidator.validate(json("[[\"sad\",\"ok\"],[\"happy\",null]]"))).isEmpty();
        assertThat(moodValidator.validate(json("[[[[[[\"sad\"]]]]]]"))).isEmpty();
        assertThat(moodValidator.validate(json("[[[[[[\"glad\"]]]]]]"))).as("the sixth level keeps the labels").isNotEmpty();
    }

    @Test
    void arraysOfDomainsAndDomainsOverArraysLookThroughTheDomain() {
        PgType code = new PgType(90010, "public", "code", 'd', 'S', null, VARCHAR, List.of(), 12);
        assertThat(TypeSchemas.value(PgType.arrayOf(90030, code), -1))
                .isEqualTo(json(anyDimensions("\"array\"", "string", ",\"maxLength\":8", "")));
        PgType codes = new PgType(90031, "public", "codes", 'd', 'A', null, PgType.arrayOf(1015, VARCHAR), List.of(), 7);
        assertThat(TypeSchemas.value(codes, -1))
                .isEqualTo(json(anyDimensions("\"array\"", "string", ",\"maxLength\":3", "")));
    }

    @Test
    void nullableLeavesAlreadyNullableSchemasAlone() {
        var schema = TypeSchemas.column(MOOD, -1, 0, false);
        assertThat(TypeSchemas.nullable(schema.deepCopy())).isEqualTo(schema);
    }
}
