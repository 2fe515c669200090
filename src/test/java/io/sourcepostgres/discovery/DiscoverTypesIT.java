package io.sourcepostgres.discovery;

import static io.sourcepostgres.discovery.DiscoverRuns.MAPPER;
import static io.sourcepostgres.discovery.DiscoverRuns.discover;
import static io.sourcepostgres.discovery.DiscoverRuns.propertyNames;
import static io.sourcepostgres.discovery.DiscoverRuns.stream;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SchemaValidatorsConfig;
import com.networknt.schema.SpecVersion;
import io.sourcepostgres.testing.PostgresCluster;
import io.sourcepostgres.testing.PostgresExtension;
import io.sourcepostgres.testing.ProtocolValidator;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * One table with a column of every built-in type family, the common extension types, arrays, enums,
 * domains and composites: each column's schema must be exactly the one TYPES.md gives, and sample values
 * written the TYPES.md way must validate against the stream schema.
 */
@ExtendWith(PostgresExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DiscoverTypesIT {
    private static final String INTEGER = "{'type':['integer','null']}";
    private static final String NUMBER = "{'type':['number','null']}";
    private static final String STRING = "{'type':['string','null']}";

    /** column name -> (SQL type, expected schema with ' for "), in table order. */
    private final Map<String, String[]> columns = new LinkedHashMap<>();
    private JsonNode stream;

    /**
     * An array column's schema: any number of dimensions up to 6, each level below the outer one admitting an
     * element ({@code type} plus {@code keywords}) or an array; {@code innermostOnly} only at the sixth level.
     */
    private static String anyDimensions(String outerType, String type, String keywords, String innermostOnly) {
        String level = "{'type':['" + type + "','null']" + keywords + innermostOnly + "}";
        for (int d = 5; d >= 1; d--) {
            level = "{'type':['" + type + "','array','null']" + keywords + ",'items':" + level + "}";
        }
        return "{'type':" + outerType + ",'items':" + level + "}";
    }

    private void column(String name, String sqlType, String expectedSchema) {
        columns.put(name, new String[] {sqlType, expectedSchema});
    }

    @BeforeAll
    void createTheTableAndDiscover(PostgresCluster pg) {
        column("c_bool", "boolean", "{'type':['boolean','null']}");
        column("c_int2", "smallint", INTEGER);
        column("c_int4", "integer NOT NULL", "{'type':'integer'}");
        column("c_int8", "bigint", INTEGER);
        column("c_serial", "serial", "{'type':'integer'}");
        column("c_bigserial", "bigserial", "{'type':'integer'}");
        column("c_oid", "oid", INTEGER);
        column("c_float4", "real", NUMBER);
        column("c_float8_not_null", "double precision NOT NULL", NUMBER); // NaN is written as null
        column("c_numeric", "numeric", NUMBER);
        column("c_numeric_10_2", "numeric(10,2)", NUMBER);
        column("c_numeric_12_0", "numeric(12,0) NOT NULL", INTEGER);
        column("c_money", "money NOT NULL", "{'type':'number'}");
        column("c_char_3", "char(3)", "{'type':['string','null'],'maxLength':3}");
        column("c_char", "char", "{'type':['string','null'],'maxLength':1}");
        column("c_varchar_20", "varchar(20)", "{'type':['string','null'],'maxLength':20}");
        column("c_varchar", "varchar", STRING);
        column("c_text", "text NOT NULL", "{'type':'string'}");
        column("c_name", "name", STRING);
        column("c_internal_char", "\"char\"", STRING);
        column("c_citext", "ext.citext", STRING);
        column("c_bytea", "bytea", "{'type':['string','null'],'contentEncoding':'base64'}");
        column("c_uuid", "uuid", "{'type':['string','null'],'format':'uuid'}");
        column("c_json", "json", "{}");
        column("c_jsonb", "jsonb NOT NULL", "{}");
        column("c_date", "date", "{'type':['string','null'],'format':'date'}");
        column("c_timestamp", "timestamp",
                "{'type':['string','null'],'format':'date-time','airbyte_type':'timestamp_without_timezone'}");
        column("c_timestamp_3", "timestamp(3)",
                "{'type':['string','null'],'format':'date-time','airbyte_type':'timestamp_without_timezone'}");
        column("c_timestamptz", "timestamptz NOT NULL",
                "{'type':'string','format':'date-time','airbyte_type':'timestamp_with_timezone'}");
        column("c_time", "time", "{'type':['string','null'],'format':'time','airbyte_type':'time_without_timezone'}");
        column("c_timetz", "timetz(2)", "{'type':['string','null'],'format':'time','airbyte_type':'time_with_timezone'}");
        column("c_interval", "interval", STRING);
        for (String type : List.of("inet", "cidr", "macaddr", "macaddr8", "bit(4)", "varbit(8)", "xml", "tsvector",
                "tsquery", "pg_lsn", "point", "line", "lseg", "box", "path", "polygon", "circle", "int4range",
                "int8range", "numrange", "tsrange", "tstzrange", "daterange", "txid_snapshot", "xid", "regclass",
                "regtype", "jsonpath", "int2vector", "oidvector", "ltree", "address")) {
            column("c_" + type.replaceAll("\\(.*", ""), type, STRING);
        }
        if (pg.majorVersion() >= 13) {
            column("c_xid8", "xid8", STRING);
            column("c_pg_snapshot", "pg_snapshot", STRING);
        }
        if (pg.majorVersion() >= 14) {
            column("c_int4multirange", "int4multirange", STRING);
            column("c_datemultirange", "datemultirange", STRING);
        }
        if (pg.majorVersion() >= 15) {
            column("c_numeric_5_neg3", "numeric(5,-3)", INTEGER); // rounds to thousands
        }
        column("c_hstore", "hstore", "{'type':['object','null'],'additionalProperties':{'type':['string','null']}}");
        column("c_mood", "mood", "{'type':['string','null'],'enum':['sad','ok','happy',null]}");
        column("c_mood_not_null", "mood NOT NULL", "{'type':'string','enum':['sad','ok','happy']}");
        column("c_short_code", "short_code", "{'type':['string','null'],'maxLength':8}");
        column("c_amount", "amount", INTEGER);
        column("c_positive", "positive_int NOT NULL", "{'type':'integer'}");
        column("c_code_list", "code_list", anyDimensions("['array','null']", "string", ",'maxLength':3", ""));
        column("c_int_array", "integer[]", anyDimensions("['array','null']", "integer", "", ""));
        // PostgreSQL ignores declared dimensions: the same schema, taking 1 to 6 of them
        column("c_int_matrix", "integer[][]", anyDimensions("['array','null']", "integer", "", ""));
        column("c_text_array", "text[] NOT NULL", anyDimensions("'array'", "string", "", ""));
        column("c_varchar_array", "varchar(5)[]", anyDimensions("['array','null']", "string", ",'maxLength':5", ""));
        column("c_mood_array", "mood[]", anyDimensions("['array','null']", "string", "", ",'enum':['sad','ok','happy',null]"));
        column("c_jsonb_array", "jsonb[]", "{'type':['array','null'],'items':{}}");
        column("c_numeric_array", "numeric(6,0)[]", anyDimensions("['array','null']", "integer", "", ""));
        column("c_uuid_array", "uuid[]", anyDimensions("['array','null']", "string", ",'format':'uuid'", ""));
        column("c_timestamptz_array", "timestamptz[]", anyDimensions("['array','null']", "string",
                ",'format':'date-time','airbyte_type':'timestamp_with_timezone'", ""));
        column("c_hstore_array", "hstore[]", anyDimensions("['array','null']", "object",
                ",'additionalProperties':{'type':['string','null']}", ""));
        column("c_address_array", "address[]", anyDimensions("['array','null']", "string", "", ""));
        column("c_short_code_array", "short_code[]", anyDimensions("['array','null']", "string", ",'maxLength':8", ""));
        column("c_generated", "integer GENERATED ALWAYS AS (c_int4 * 2) STORED", INTEGER);

        String database = pg.createDatabase("types");
        pg.execute(database,
                "CREATE EXTENSION hstore",
                "CREATE EXTENSION ltree",
                "CREATE SCHEMA ext",
                "CREATE EXTENSION citext SCHEMA ext",
                // labels added out of oid order: the schema lists them in sort order
                "CREATE TYPE mood AS ENUM ('sad', 'happy')",
                "ALTER TYPE mood ADD VALUE 'ok' BEFORE 'happy'",
                "CREATE TYPE address AS (number int, street text)",
                "CREATE DOMAIN code AS varchar(8)",
                "CREATE DOMAIN short_code AS code CHECK (length(VALUE) >= 2)",
                "CREATE DOMAIN amount AS numeric(12,0)",
                "CREATE DOMAIN positive_int AS integer CHECK (VALUE > 0)",
                "CREATE DOMAIN code_list AS varchar(3)[]",
                "CREATE TABLE every_type (" + columns.entrySet().stream()
                        .map(e -> e.getKey() + " " + e.getValue()[0]).collect(Collectors.joining(", ")) + ")");
        stream = stream(discover(pg, database), "public", "every_type");
    }

    @Test
    void everyColumnHasExactlyItsTypesMdSchema() {
        JsonNode properties = stream.get("json_schema").get("properties");
        List<String> mismatches = new ArrayList<>();
        columns.forEach((name, spec) -> {
            JsonNode expected = DiscoverRuns.json(spec[1].replace('\'', '"'));
            if (!expected.equals(properties.get(name))) {
                mismatches.add(name + " " + spec[0] + ": expected " + expected + " but was " + properties.get(name));
            }
        });
        assertThat(mismatches).isEmpty();
    }

    @Test
    void columnsComeInTableOrderFollowedByTheCdcFields() {
        List<String> expected = new ArrayList<>(columns.keySet());
        expected.addAll(CdcFields.NAMES);
        assertThat(propertyNames(stream)).containsExactlyElementsOf(expected);
        JsonNode properties = stream.get("json_schema").get("properties");
        assertThat(properties.get("_ab_cdc_lsn")).isEqualTo(DiscoverRuns.json("{\"type\":\"number\"}"));
        assertThat(properties.get("_ab_cdc_updated_at"))
                .isEqualTo(DiscoverRuns.json("{\"type\":\"string\",\"format\":\"date-time\"}"));
        assertThat(properties.get("_ab_cdc_deleted_at"))
                .isEqualTo(DiscoverRuns.json("{\"type\":[\"string\",\"null\"],\"format\":\"date-time\"}"));
    }

    @Test
    void theSchemaHasNoConstructsAirbyteCannotRender() {
        String schema = stream.get("json_schema").toString();
        for (String keyword : List.of("$ref", "anyOf", "allOf", "oneOf", "\"not\"")) {
            assertThat(schema).doesNotContain(keyword);
        }
    }

    @Test
    void valuesWrittenTheTypesMdWayValidate() {
        ObjectNode data = sample();
        // Zone-less timestamps and times are not RFC 3339, which a strict draft-07 "format" check demands;
        // Airbyte's convention (format plus airbyte_type *_without_timezone) treats format as an annotation.
        assertValidWithFormatAsAnnotation(data, stream.get("json_schema"));
        assertThat(strictFormatErrors(data, stream.get("json_schema")))
                .anyMatch(e -> e.contains("c_timestamp:")).anyMatch(e -> e.contains("c_time:"));
        data.remove(List.of("c_timestamp", "c_time"));
        assertThat(strictFormatErrors(data, stream.get("json_schema"))).isEmpty();
        ProtocolValidator.assertMatchesSchema(data, stream.get("json_schema"));
        // nulls wherever the column allows them, the nullable enum included
        for (String column : List.of("c_mood", "c_hstore", "c_int_array", "c_short_code", "c_json", "c_float8_not_null",
                "c_numeric_12_0", "_ab_cdc_deleted_at")) {
            ProtocolValidator.assertMatchesSchema(data.deepCopy().putNull(column), stream.get("json_schema"));
        }
    }

    @Test
    void valuesTheColumnCannotHoldAreRejected() {
        JsonNode schema = stream.get("json_schema");
        assertRejected(sample().putNull("c_mood_not_null"), schema);
        assertRejected(sample().put("c_mood", "angry"), schema);
        assertRejected(sample().putNull("c_int4"), schema);
        assertRejected(sample().put("c_numeric_12_0", 1.5), schema);
        assertRejected(sample().put("c_varchar_20", "x".repeat(21)), schema);
        assertRejected(sample().put("c_short_code", "123456789"), schema);
        assertRejected(sample().put("c_int_array", "{1,2}"), schema);
        ObjectNode hstore = sample();
        hstore.putObject("c_hstore").put("a", 1);
        assertRejected(hstore, schema);
    }

    private ObjectNode sample() {
        ObjectNode d = MAPPER.createObjectNode();
        d.put("c_bool", true);
        d.put("c_int2", -32768);
        d.put("c_int4", 42);
        d.put("c_int8", Long.MAX_VALUE);
        d.put("c_serial", 1);
        d.put("c_bigserial", 1);
        d.put("c_oid", 4294967295L);
        d.put("c_float4", 1.5);
        d.putNull("c_float8_not_null");
        d.put("c_numeric", new java.math.BigDecimal("12.30"));
        d.put("c_numeric_10_2", new java.math.BigDecimal("-99999999.99"));
        d.put("c_numeric_12_0", 123456789012L);
        d.put("c_money", new java.math.BigDecimal("-1000.00"));
        d.put("c_char_3", "ab ");
        d.put("c_char", "x");
        d.put("c_varchar_20", "x".repeat(20));
        d.put("c_text", "Grüße, 世界");
        d.put("c_bytea", "3q2+7w==");
        d.put("c_uuid", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
        d.putObject("c_json").putArray("a").add(1).addNull();
        d.put("c_jsonb", "a JSON string");
        d.put("c_date", "2024-02-29");
        d.put("c_timestamp", "2024-02-29T12:34:56.123456");
        d.put("c_timestamptz", "2024-02-29T20:34:56.123456Z");
        d.put("c_time", "12:34:56.5");
        d.put("c_timetz", "12:34:56+05:30");
        d.put("c_interval", "P1Y2M3DT4H5M6.000007S");
        d.put("c_inet", "192.168.0.1/24");
        d.put("c_int4range", "[1,10)");
        d.put("c_address", "(1,\"Main St\")");
        d.putObject("c_hstore").put("a", "1").putNull("b");
        d.putNull("c_mood");
        d.put("c_mood_not_null", "ok");
        d.put("c_short_code", "ABCDEFGH");
        d.put("c_amount", 123456789012L);
        d.put("c_positive", 7);
        d.putArray("c_code_list").add("abc").addNull();
        d.putArray("c_int_array").add(1).addNull().add(3);
        var matrix = d.putArray("c_int_matrix");
        matrix.addArray().add(1).add(2);
        matrix.addArray().add(3).addNull();
        d.putArray("c_text_array");
        d.putArray("c_mood_array").add("sad").addNull();
        d.putArray("c_jsonb_array").add(MAPPER.createObjectNode().put("x", 1)).addNull().add(3);
        d.putArray("c_numeric_array").add(123456).addNull();
        d.putArray("c_hstore_array").addNull().addObject().put("k", "v");
        d.putArray("c_address_array").add("(2,Elm)");
        d.put("c_generated", 84);
        d.put("_ab_cdc_lsn", 24_012_345_678L);
        d.put("_ab_cdc_updated_at", "2024-02-29T20:34:56.123456Z");
        d.putNull("_ab_cdc_deleted_at");
        return d;
    }

    private static void assertValidWithFormatAsAnnotation(JsonNode data, JsonNode schema) {
        var config = SchemaValidatorsConfig.builder().formatAssertionsEnabled(false).build();
        var errors = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V7).getSchema(schema, config).validate(data);
        assertThat(errors).as("%s", data).isEmpty();
    }

    /** What a validator that asserts draft-07 formats (ProtocolValidator does not, as Airbyte) says of {@code data}. */
    private static List<String> strictFormatErrors(JsonNode data, JsonNode schema) {
        var config = SchemaValidatorsConfig.builder().formatAssertionsEnabled(true).build();
        return JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V7).getSchema(schema, config).validate(data).stream()
                .map(com.networknt.schema.ValidationMessage::getMessage).toList();
    }

    private static void assertRejected(JsonNode data, JsonNode schema) {
        assertThatThrownBy(() -> ProtocolValidator.assertMatchesSchema(data, schema))
                .as("should not validate: %s", data).isInstanceOf(AssertionError.class);
    }
}
