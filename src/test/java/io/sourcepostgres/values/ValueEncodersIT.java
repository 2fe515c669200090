package io.sourcepostgres.values;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sourcepostgres.airbyte.Json;
import io.sourcepostgres.config.ConnectorConfig;
import io.sourcepostgres.postgres.PgConnections;
import io.sourcepostgres.testing.PostgresCluster;
import io.sourcepostgres.testing.PostgresExtension;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Every row of TYPES.md against a real server: PostgreSQL's own text output of a literal, read under the
 * canonical session settings, encodes to the expected JSON; the JSON read back by PostgreSQL gives an equal
 * value (except the documented NaN/Infinity nulls and infinite-date clamps); and a server whose TimeZone,
 * DateStyle, IntervalStyle, lc_monetary, extra_float_digits and bytea_output all differ produces the very
 * same JSON.
 */
@ExtendWith(PostgresExtension.class)
class ValueEncodersIT {
    private static final String LARGE_BYTEA_HEX = "00ff7f80".repeat(50_000);
    private static final String THOUSAND_DIGITS = "9".repeat(1000) + "." + "0123456789".repeat(10);

    /** How the emitted JSON is checked against the original in PostgreSQL. */
    private enum Check {
        /** {@code CAST(emitted AS type) = original}. */
        EQUAL,
        /** The types' text output of both are the same (types without an equality operator). */
        SAME_TEXT,
        /** Equal once both are cast to jsonb ({@code json} has no equality operator). */
        SAME_JSONB,
        /** Documented: NaN/Infinity became null and the encoder reported it. */
        NULLED,
        /** Documented: an infinite date became the end of the range; the emitted value is a valid one. */
        CLAMPED
    }

    /**
     * One literal: {@code SELECT (<literal>)::<type>}. {@code equalTo}, when set, is the literal the
     * emitted value equals instead (array bounds dropped). {@code since}: first server version that has
     * the value; {@code roundTripSince}: first version that reads the emitted text back.
     */
    private record Case(String type, String literal, String expected, Check check, String equalTo, int since,
            int roundTripSince) {
        Case since(int version) {
            return new Case(type, literal, expected, check, equalTo, version, roundTripSince);
        }

        Case roundTripSince(int version) {
            return new Case(type, literal, expected, check, equalTo, since, version);
        }

        Case equalTo(String literal) {
            return new Case(type, this.literal, expected, check, literal, since, roundTripSince);
        }

        String value() {
            return "(" + literal + ")::" + type;
        }

        @Override
        public String toString() {
            return value();
        }
    }

    private static Case eq(String type, String literal, String expected) {
        return new Case(type, literal, expected, Check.EQUAL, null, 0, 0);
    }

    private static Case sameText(String type, String literal, String expected) {
        return new Case(type, literal, expected, Check.SAME_TEXT, null, 0, 0);
    }

    private static Case sameJsonb(String type, String literal, String expected) {
        return new Case(type, literal, expected, Check.SAME_JSONB, null, 0, 0);
    }

    private static Case nulled(String type, String literal, String expected) {
        return new Case(type, literal, expected, Check.NULLED, null, 0, 0);
    }

    private static Case clamped(String type, String literal, String expected) {
        return new Case(type, literal, expected, Check.CLAMPED, null, 0, 0);
    }

    private static final List<Case> CASES = List.of(
            eq("boolean", "'true'", "true"),
            eq("boolean", "'false'", "false"),
            eq("int2", "-32768", "-32768"),
            eq("int2", "32767", "32767"),
            eq("int4", "-2147483648", "-2147483648"),
            eq("int4", "2147483647", "2147483647"),
            eq("int8", "'-9223372036854775808'", "-9223372036854775808"),
            eq("int8", "9223372036854775807", "9223372036854775807"),
            eq("oid", "4294967295", "4294967295"),
            eq("float4", "'3.4028235e38'", "3.4028235e+38"),
            eq("float4", "'0.1'", "0.1"),
            eq("float4", "'1e-45'", "1e-45"),
            eq("float4", "'-0'", "-0"),
            nulled("float4", "'NaN'", "null"),
            eq("float8", "'1e20'", "1e+20"),
            eq("float8", "'1.5e-7'", "1.5e-07"),
            eq("float8", "'0.1'", "0.1"),
            eq("float8", "'-0'", "-0"),
            eq("float8", "'1.7976931348623157e308'", "1.7976931348623157e+308"),
            eq("float8", "'4.9e-324'", "5e-324"),
            eq("float8", "'123456789012345678'", "1.2345678901234568e+17"),
            nulled("float8", "'Infinity'", "null"),
            nulled("float8", "'-Infinity'", "null"),
            nulled("float8", "'NaN'", "null"),
            eq("numeric", "'12.30'", "12.30"),
            eq("numeric", "'1e-20'", "0.00000000000000000001"),
            eq("numeric", "'1e20'", "100000000000000000000"),
            eq("numeric(10,2)", "5", "5.00"),
            eq("numeric", "'-0.0'", "0.0"),
            eq("numeric", "'" + THOUSAND_DIGITS + "'", THOUSAND_DIGITS),
            eq("numeric", "'-" + THOUSAND_DIGITS + "'", "-" + THOUSAND_DIGITS),
            nulled("numeric", "'NaN'", "null"),
            nulled("numeric", "'Infinity'", "null").since(14),
            nulled("numeric", "'-Infinity'", "null").since(14),
            eq("money", "'-1000.5'", "-1000.50"),
            eq("money", "'0'", "0.00"),
            eq("money", "'92233720368547758.07'", "92233720368547758.07"),
            eq("money", "'-92233720368547758.08'", "-92233720368547758.08"),
            eq("text", "''", "\"\""),
            eq("text", "'é 中文 😀 𝄞'", "\"é 中文 😀 𝄞\""),
            eq("text", "E'tab\\there\\nline\\r \\\\ \"q\" \\x01 \\x1f'", "\"tab\\there\\nline\\r \\\\ \\\"q\\\" \\u0001 \\u001F\""),
            eq("char(5)", "'ab'", "\"ab   \""),
            eq("varchar(10)", "' x '", "\" x \""),
            eq("name", "'abc'", "\"abc\""),
            eq("\"char\"", "'a'", "\"a\""),
            eq("\"char\"", "'é'", "\"\\\\303\"").roundTripSince(15),
            eq("citext", "'MiXeD'", "\"MiXeD\""),
            eq("bytea", "'\\x0a0b0c'", "\"CgsM\""),
            eq("bytea", "''", "\"\""),
            eq("bytea", "'\\xfbff'", "\"+/8=\""),
            eq("bytea", "decode('" + LARGE_BYTEA_HEX + "', 'hex')",
                    "\"" + Base64.getEncoder().encodeToString(HexFormat.of().parseHex(LARGE_BYTEA_HEX)) + "\""),
            eq("uuid", "'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'", "\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\""),
            sameJsonb("json", "'{\"b\":1, \"a\" : [1, 2.50, \"x y\"],\n \"b\": 2}'", "{\"b\":1,\"a\":[1,2.50,\"x y\"],\"b\":2}"),
            sameText("json", "'\"\\ud800\"'", "\"\\ud800\""),
            sameText("json", "'[[[[[[[[[[{\"deep\":[1e400]}]]]]]]]]]]'", "[[[[[[[[[[{\"deep\":[1e400]}]]]]]]]]]]"),
            eq("jsonb", "'{\"s\": \"😀\", \"n\": 1.0e5, \"z\": null}'", "{\"n\":100000,\"s\":\"😀\",\"z\":null}"),
            eq("jsonb", "'null'", "null"),
            eq("jsonb", "'\"a\\u0001b\"'", "\"a\\u0001b\""),
            eq("date", "'2024-02-29'", "\"2024-02-29\""),
            eq("date", "'0044-03-15 BC'", "\"0044-03-15 BC\""),
            eq("date", "'10000-01-01'", "\"10000-01-01\""),
            clamped("date", "'infinity'", "\"9999-12-31\""),
            clamped("date", "'-infinity'", "\"0001-01-01\""),
            eq("timestamp", "'2024-02-29 01:02:03.1'", "\"2024-02-29T01:02:03.1\""),
            eq("timestamp", "'2024-01-02 03:04:05.12'", "\"2024-01-02T03:04:05.12\""),
            eq("timestamp", "'2024-01-02 03:04:05.123'", "\"2024-01-02T03:04:05.123\""),
            eq("timestamp", "'2024-01-02 03:04:05.1234'", "\"2024-01-02T03:04:05.1234\""),
            eq("timestamp", "'2024-01-02 03:04:05.12345'", "\"2024-01-02T03:04:05.12345\""),
            eq("timestamp", "'2024-01-02 03:04:05.123456'", "\"2024-01-02T03:04:05.123456\""),
            eq("timestamp", "'0044-03-15 12:00 BC'", "\"0044-03-15T12:00:00 BC\""),
            eq("timestamp", "'294276-12-31 23:59:59.999999'", "\"294276-12-31T23:59:59.999999\""),
            clamped("timestamp", "'infinity'", "\"9999-12-31T23:59:59.999999\""),
            clamped("timestamp", "'-infinity'", "\"0001-01-01T00:00:00\""),
            eq("timestamptz", "'2024-01-02 03:04:05.123456+05:45'", "\"2024-01-01T21:19:05.123456Z\""),
            eq("timestamptz", "'2024-06-30 23:59:59.5-03:30'", "\"2024-07-01T03:29:59.5Z\""),
            eq("timestamptz", "'0044-03-15 12:00+00 BC'", "\"0044-03-15T12:00:00Z BC\""),
            eq("timestamptz", "'10000-01-01 00:00+00'", "\"10000-01-01T00:00:00Z\""),
            eq("timestamptz", "'1800-01-01 00:00 Europe/Paris'", "\"1799-12-31T23:50:39Z\""),
            clamped("timestamptz", "'infinity'", "\"9999-12-31T23:59:59.999999Z\""),
            clamped("timestamptz", "'-infinity'", "\"0001-01-01T00:00:00Z\""),
            eq("time", "'24:00:00'", "\"24:00:00\""),
            eq("time", "'03:04:05.5'", "\"03:04:05.5\""),
            eq("time", "'23:59:59.999999'", "\"23:59:59.999999\""),
            eq("timetz", "'03:04:05+05:45'", "\"03:04:05+05:45\""),
            eq("timetz", "'03:04:05-03:30'", "\"03:04:05-03:30\""),
            eq("timetz", "'03:04:05+03:30:50'", "\"03:04:05+03:30:50\""),
            eq("timetz", "'03:04:05.123456+00'", "\"03:04:05.123456+00:00\""),
            eq("interval", "'1 year 2 mons 3 days 04:05:06.000007'", "\"P1Y2M3DT4H5M6.000007S\""),
            eq("interval", "'0'", "\"PT0S\""),
            eq("interval", "'-1 year -2 mons'", "\"P-1Y-2M\""),
            eq("interval", "'-1 day +02:03'", "\"P-1DT2H3M\""),
            eq("interval", "'-0.5 seconds'", "\"PT-0.5S\""),
            eq("interval", "'1 mon -1 sec'", "\"P1MT-1S\""),
            nulled("interval", "'infinity'", "null").since(17),
            nulled("interval", "'-infinity'", "null").since(17),
            eq("mood", "'happy'", "\"happy\""),
            eq("price", "12.30", "12.30"),
            eq("hstore", "'a=>1, b=>NULL, \"c d\"=>\"x\\\"y\\\\z\", e=>\"NULL\"'",
                    "{\"a\":\"1\",\"b\":null,\"e\":\"NULL\",\"c d\":\"x\\\"y\\\\z\"}"),
            eq("hstore", "''", "{}"),
            eq("inet", "'192.168.0.1/24'", "\"192.168.0.1/24\""),
            eq("cidr", "'10.0.0.0/8'", "\"10.0.0.0/8\""),
            eq("macaddr", "'08:00:2B:01:02:03'", "\"08:00:2b:01:02:03\""),
            eq("macaddr8", "'08:00:2b:01:02:03:04:05'", "\"08:00:2b:01:02:03:04:05\""),
            eq("bit(4)", "B'1010'", "\"1010\""),
            eq("varbit", "B'101'", "\"101\""),
            sameText("xml", "'<a>x &amp; y</a>'", "\"<a>x &amp; y</a>\""),
            eq("tsvector", "'a fat cat'", "\"'a' 'cat' 'fat'\""),
            eq("tsquery", "'fat & (rat | cat)'", "\"'fat' & ( 'rat' | 'cat' )\""),
            eq("pg_lsn", "'16/B374D848'", "\"16/B374D848\""),
            sameText("point", "'(1,2)'", "\"(1,2)\""),
            sameText("box", "'(0,0),(1,1)'", "\"(1,1),(0,0)\""),
            eq("int4range", "'[1,3)'", "\"[1,3)\""),
            eq("int4multirange", "'{[1,3),[5,7)}'", "\"{[1,3),[5,7)}\"").since(14),
            eq("pair", "ROW(1, 'a b', NULL)", "\"(1,\\\"a b\\\",)\""),
            eq("ltree", "'a.b.c'", "\"a.b.c\""),
            eq("int4[]", "'{1,2,NULL}'", "[1,2,null]"),
            eq("int4[]", "'{{1,2},{3,4}}'", "[[1,2],[3,4]]"),
            eq("int4[]", "'{}'", "[]"),
            eq("int4[]", "'[0:2]={1,2,3}'", "[1,2,3]").equalTo("'{1,2,3}'"),
            eq("text[]", "ARRAY['a b', 'c\"d', NULL, 'NULL', '', ' x ', 'a,b', 'a\\b', '{}', 'é😀']",
                    "[\"a b\",\"c\\\"d\",null,\"NULL\",\"\",\" x \",\"a,b\",\"a\\\\b\",\"{}\",\"é😀\"]"),
            nulled("float8[]", "'{NaN,1.5,-Infinity}'", "[null,1.5,null]"),
            eq("numeric[]", "'{12.30,1e-20}'", "[12.30,0.00000000000000000001]"),
            eq("bytea[]", "ARRAY['\\x0a0b'::bytea, '']", "[\"Cgs=\",\"\"]"),
            sameText("json[]", "ARRAY['{\"a\":[1,\"x,y\"]}'::json, 'null', '\"s\"']", "[{\"a\":[1,\"x,y\"]},null,\"s\"]"),
            eq("jsonb[]", "ARRAY['{\"a\": 1}'::jsonb, '[]']", "[{\"a\":1},[]]"),
            eq("timestamptz[]", "ARRAY['2024-01-02 03:04:05+00'::timestamptz, NULL]", "[\"2024-01-02T03:04:05Z\",null]"),
            eq("date[]", "ARRAY['0044-03-15 BC'::date, '2024-02-29']", "[\"0044-03-15 BC\",\"2024-02-29\"]"),
            eq("timetz[]", "ARRAY['03:04:05+00'::timetz]", "[\"03:04:05+00:00\"]"),
            eq("interval[]", "ARRAY['1 year'::interval, '0']", "[\"P1Y\",\"PT0S\"]"),
            eq("money[]", "ARRAY['-1000.5'::money]", "[-1000.50]"),
            eq("boolean[]", "'{t,f}'", "[true,false]"),
            eq("char(3)[]", "ARRAY['a'::char(3)]", "[\"a  \"]"),
            eq("uuid[]", "ARRAY['A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'::uuid]", "[\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\"]"),
            eq("mood[]", "'{sad,happy}'", "[\"sad\",\"happy\"]"),
            eq("hstore[]", "ARRAY['a=>1, b=>NULL'::hstore]", "[{\"a\":\"1\",\"b\":null}]"),
            sameText("box[]", "ARRAY['(0,0),(1,1)'::box, '(2,2),(3,3)']", "[\"(1,1),(0,0)\",\"(3,3),(2,2)\"]"),
            eq("int4range[]", "ARRAY['[1,3)'::int4range, 'empty']", "[\"[1,3)\",\"empty\"]"));

    private static final String[] SETUP = {
        "CREATE EXTENSION hstore",
        "CREATE EXTENSION citext",
        "CREATE EXTENSION ltree",
        "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')",
        "CREATE DOMAIN price AS numeric(12,2) CHECK (VALUE >= 0)",
        "CREATE TYPE pair AS (n int, s text, x text)"
    };

    /** A JSON reader for round trips: duplicate keys allowed (json keeps them), numbers exact. */
    private static final ObjectMapper READER = new ObjectMapper(JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNumberLength(Integer.MAX_VALUE).build())
            .build())
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);

    @Test
    void everyCaseEncodesAsExpectedAndReadsBackEqual(PostgresCluster pg) throws Exception {
        String db = pg.createDatabase("values");
        pg.execute(db, SETUP);
        SoftAssertions softly = new SoftAssertions();
        int checked = 0;
        try (Connection c = new PgConnections(config(pg, db)).openQuery()) {
            int version = serverMajor(c);
            for (Case k : CASES) {
                if (version < k.since()) {
                    continue;
                }
                checked++;
                Encoded out = encode(c, k);
                softly.assertThat(out.json()).as("%s", k).isEqualTo(k.expected());
                softly.assertThat(out.representable()).as("%s reports a nulled value", k).isEqualTo(k.check() != Check.NULLED);
                if (version >= k.roundTripSince()) {
                    softly.assertThat(readsBackEqual(c, k, out.json())).as("%s read back from %s", k, abbreviate(out.json()))
                            .isTrue();
                }
            }
        }
        softly.assertAll();
        assertThat(checked).isGreaterThan(100);
    }

    @Test
    void serverSettingsDoNotChangeTheOutput(PostgresCluster pg) throws Exception {
        // The shared server gives the reference; this one differs in every setting that shapes text output.
        // lc_monetary: the test clusters only have the C, C.UTF-8 and POSIX locales (initdb --locale=C.UTF-8),
        // all formatting money alike, so only a locale name different from the session's 'C' is set.
        String db = pg.createDatabase("values");
        pg.execute(db, SETUP);
        try (PostgresCluster odd = PostgresCluster.start(PostgresCluster.options()
                .set("TimeZone", "Asia/Kathmandu")
                .set("DateStyle", "SQL, DMY")
                .set("IntervalStyle", "postgres_verbose")
                .set("lc_monetary", "C.UTF-8")
                .set("extra_float_digits", "0")
                .set("bytea_output", "escape"))) {
            String oddDb = odd.createDatabase("values");
            odd.execute(oddDb, SETUP);
            assertServerDefaultsReallyDiffer(odd, oddDb);
            SoftAssertions softly = new SoftAssertions();
            try (Connection reference = new PgConnections(config(pg, db)).openQuery();
                    Connection other = new PgConnections(config(odd, oddDb)).openQuery()) {
                int version = serverMajor(other);
                for (Case k : CASES) {
                    if (version < k.since()) {
                        continue;
                    }
                    softly.assertThat(encode(other, k)).as("%s", k).isEqualTo(encode(reference, k));
                }
            }
            softly.assertAll();
        }
    }

    /**
     * The odd server really runs with its settings, so the test above proves something. pgjdbc itself
     * sends DateStyle, TimeZone and extra_float_digits at connection start, so those are checked in the
     * configuration the server applied; a session that does not set the others shows their effect.
     */
    private static void assertServerDefaultsReallyDiffer(PostgresCluster odd, String db) throws SQLException {
        try (Connection plain = odd.connect(db); Statement st = plain.createStatement()) {
            Map<String, String> applied = new LinkedHashMap<>();
            try (ResultSet rs = st.executeQuery("SELECT name, setting FROM pg_file_settings WHERE applied")) {
                while (rs.next()) {
                    applied.put(rs.getString(1).toLowerCase(java.util.Locale.ROOT), rs.getString(2));
                }
            }
            assertThat(applied).containsEntry("timezone", "Asia/Kathmandu").containsEntry("datestyle", "SQL, DMY")
                    .containsEntry("intervalstyle", "postgres_verbose").containsEntry("lc_monetary", "C.UTF-8")
                    .containsEntry("extra_float_digits", "0").containsEntry("bytea_output", "escape");
            try (ResultSet rs = st.executeQuery("SELECT format('%s', '1 year'::interval), format('%s', '\\x0a'::bytea)")) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo("@ 1 year");
                assertThat(rs.getString(2)).isEqualTo("\\012");
            }
        }
    }

    private record Encoded(String json, boolean representable) {}

    /** Reads the value's text output (the output function's exact bytes, as pgoutput sends them) and encodes it. */
    private static Encoded encode(Connection c, Case k) throws SQLException, IOException {
        PgType type;
        byte[] text;
        try (Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT pg_typeof(" + k.value() + ")::oid, format('%s', " + k.value() + ")")) {
            rs.next();
            type = resolve(c, rs.getLong(1));
            text = rs.getBytes(2);
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        boolean representable;
        try (JsonGenerator out = new JsonFactory().createGenerator(bytes)) {
            representable = ValueEncoders.forType(type, -1).write(out, text, 0, text.length);
        }
        String json = Encoding.strictUtf8(bytes.toByteArray());
        Encoding.assertValidJson(json);
        return new Encoded(json, representable);
    }

    private static boolean readsBackEqual(Connection c, Case k, String emitted) throws SQLException, IOException {
        String original = k.equalTo() != null ? "(" + k.equalTo() + ")::" + k.type() : k.value();
        String emittedValue = "CAST(? AS " + k.type() + ")";
        String sql = switch (k.check()) {
            case EQUAL -> "SELECT " + emittedValue + " = " + original;
            case SAME_TEXT -> "SELECT format('%s', " + emittedValue + ") = format('%s', " + original + ")";
            case SAME_JSONB -> "SELECT " + emittedValue + "::jsonb = " + original + "::jsonb";
            case CLAMPED -> "SELECT isfinite(" + emittedValue + ")";
            case NULLED -> null;
        };
        if (sql == null) {
            return true;
        }
        JsonNode node = READER.readTree(emitted);
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 1; i <= ps.getParameterMetaData().getParameterCount(); i++) {
                if (k.type().equals("bytea")) {
                    ps.setBytes(i, Base64.getDecoder().decode(node.textValue()));
                } else {
                    ps.setString(i, inputText(node, emitted, k.type()));
                }
            }
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    /** PostgreSQL input text for an emitted JSON value of the given type. */
    private static String inputText(JsonNode node, String emitted, String type) {
        if (type.endsWith("[]")) {
            return arrayLiteral(node, type.substring(0, type.length() - 2));
        }
        if (type.equals("hstore")) {
            return hstoreLiteral(node);
        }
        return node.isTextual() && !type.startsWith("json") ? node.textValue() : emitted;
    }

    private static String arrayLiteral(JsonNode array, String elementType) {
        boolean jsonElements = elementType.startsWith("json");
        StringBuilder s = new StringBuilder("{");
        for (int i = 0; i < array.size(); i++) {
            JsonNode e = array.get(i);
            if (i > 0) {
                s.append(elementType.equals("box") ? ';' : ',');
            }
            if (e.isArray() && !jsonElements) {
                s.append(arrayLiteral(e, elementType));
            } else if (e.isNull() && !jsonElements) {
                s.append("NULL");
            } else if (elementType.equals("bytea")) {
                s.append(quoted("\\x" + HexFormat.of().formatHex(Base64.getDecoder().decode(e.textValue()))));
            } else if (elementType.equals("hstore")) {
                s.append(quoted(hstoreLiteral(e)));
            } else {
                s.append(quoted(e.isTextual() && !jsonElements ? e.textValue() : e.toString()));
            }
        }
        return s.append('}').toString();
    }

    private static String hstoreLiteral(JsonNode object) {
        List<String> pairs = new ArrayList<>();
        object.properties().forEach(p -> pairs.add(quoted(p.getKey()) + "=>"
                + (p.getValue().isNull() ? "NULL" : quoted(p.getValue().textValue()))));
        return String.join(", ", pairs);
    }

    private static String quoted(String s) {
        return '"' + s.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }

    /** The catalog's description of a type, as discovery resolves it: arrays, domains and enums followed. */
    private static PgType resolve(Connection c, long oid) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT n.nspname, t.typname, t.typtype, t.typcategory, "
                + "CASE WHEN t.typlen = -1 AND t.typelem <> 0 THEN t.typelem END, "
                + "CASE WHEN t.typtype = 'd' THEN t.typbasetype END, "
                + "ARRAY(SELECT e.enumlabel FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder)::text[] "
                + "FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.oid = ?")) {
            ps.setLong(1, oid);
            try (ResultSet rs = ps.executeQuery()) {
                assertThat(rs.next()).as("type %d", oid).isTrue();
                long element = rs.getLong(5);
                PgType elementType = rs.wasNull() ? null : resolve(c, element);
                long base = rs.getLong(6);
                PgType baseType = rs.wasNull() ? null : resolve(c, base);
                return new PgType(oid, rs.getString(1), rs.getString(2), rs.getString(3).charAt(0),
                        rs.getString(4).charAt(0), elementType, baseType,
                        List.of((String[]) rs.getArray(7).getArray()));
            }
        }
    }

    private static ConnectorConfig config(PostgresCluster cluster, String db) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("connectionURI", cluster.uri("postgres", null, db));
        return ConnectorConfig.from(Json.MAPPER.valueToTree(json));
    }

    private static int serverMajor(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SHOW server_version_num")) {
            rs.next();
            return Integer.parseInt(rs.getString(1)) / 10000;
        }
    }

    private static String abbreviate(String s) {
        return s.length() > 200 ? s.substring(0, 200) + "..." : s;
    }
}
