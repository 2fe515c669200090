package io.sourcepostgres.values;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The type table of TYPES.md as test data, shared by {@link ValueEncodersIT} (the encoders alone) and
 * {@link TypeFidelityIT} (the real connector, both paths): each case is a column type, an SQL literal, the
 * exact JSON expected and how the emitted value is checked back in PostgreSQL; {@link #SCHEMAS} holds each
 * column type's expected JSON Schema (nullable column), and {@link #readsBackEqual} the round trip.
 */
final class TypeCases {
    private TypeCases() {}

    /**
     * A server that differs from the shared one in every setting that shapes text output; the connector's
     * sessions must make its output the same. lc_monetary: the test clusters only have the C, C.UTF-8 and
     * POSIX locales (initdb --locale=C.UTF-8), all formatting money alike, so only a locale name different
     * from the sessions' 'C' is set.
     */
    static io.sourcepostgres.testing.PostgresCluster.Options oddServer() {
        return io.sourcepostgres.testing.PostgresCluster.options()
                .set("TimeZone", "Asia/Kathmandu")
                .set("DateStyle", "SQL, DMY")
                .set("IntervalStyle", "postgres_verbose")
                .set("lc_monetary", "C.UTF-8")
                .set("extra_float_digits", "0")
                .set("bytea_output", "escape");
    }

    static final String LARGE_BYTEA_HEX = "00ff7f80".repeat(50_000);
    static final String THOUSAND_DIGITS = "9".repeat(1000) + "." + "0123456789".repeat(10);
    static final String ALL_BYTES_HEX;

    static {
        StringBuilder hex = new StringBuilder();
        for (int i = 0; i < 256; i++) {
            hex.append(String.format("%02x", i));
        }
        ALL_BYTES_HEX = hex.toString();
    }

    /** How the emitted JSON is checked against the original in PostgreSQL. */
    enum Check {
        /** {@code CAST(emitted AS type) = original}. */
        EQUAL,
        /** The types' text output of both are the same (types without an equality operator). */
        SAME_TEXT,
        /** Equal once both are cast to jsonb ({@code json} has no equality operator). */
        SAME_JSONB,
        /** Documented: NaN/Infinity became null and the record says so in meta.changes. */
        NULLED,
        /** Documented: an infinite date became the end of the range; the emitted value is a valid one. */
        CLAMPED
    }

    /**
     * One literal: {@code SELECT (<literal>)::<type>}. {@code equalTo}, when set, is the literal the
     * emitted value equals instead (array bounds dropped). {@code since}: first server version that has
     * the value; {@code roundTripSince}: first version that reads the emitted text back.
     */
    record Case(String type, String literal, String expected, Check check, String equalTo, int since,
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
            String v = value();
            return v.length() > 160 ? v.substring(0, 160) + "..." : v;
        }
    }

    static Case eq(String type, String literal, String expected) {
        return new Case(type, literal, expected, Check.EQUAL, null, 0, 0);
    }

    static Case sameText(String type, String literal, String expected) {
        return new Case(type, literal, expected, Check.SAME_TEXT, null, 0, 0);
    }

    static Case sameJsonb(String type, String literal, String expected) {
        return new Case(type, literal, expected, Check.SAME_JSONB, null, 0, 0);
    }

    static Case nulled(String type, String literal, String expected) {
        return new Case(type, literal, expected, Check.NULLED, null, 0, 0);
    }

    static Case clamped(String type, String literal, String expected) {
        return new Case(type, literal, expected, Check.CLAMPED, null, 0, 0);
    }

    private static String q(String s) {
        return "\"" + s + "\"";
    }

    static final String[] SETUP = {
        "CREATE EXTENSION hstore",
        "CREATE EXTENSION citext",
        "CREATE EXTENSION ltree",
        "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy', 'très bien', 'a \"b\" c')",
        "CREATE DOMAIN price AS numeric(12,2) CHECK (VALUE >= 0)",
        "CREATE DOMAIN small_price AS price CHECK (VALUE < 1000)",
        "CREATE DOMAIN code AS varchar(5)",
        "CREATE TYPE pair AS (n int, s text, x text)"
    };

    private static final String THOUSAND_DEEP = "[".repeat(500) + "1" + "]".repeat(500);
    private static final String LONG_TEXT = "long é😀 ".repeat(20_000);

    static final List<Case> ALL = List.of(
            // boolean
            eq("boolean", "'true'", "true"),
            eq("boolean", "'false'", "false"),
            eq("boolean", "'yes'", "true"),
            eq("boolean", "'0'", "false"),
            // integers: both ends of every range
            eq("int2", "-32768", "-32768"),
            eq("int2", "32767", "32767"),
            eq("int2", "0", "0"),
            eq("int2", "-1", "-1"),
            eq("int4", "-2147483648", "-2147483648"),
            eq("int4", "2147483647", "2147483647"),
            eq("int4", "0", "0"),
            eq("int8", "'-9223372036854775808'", "-9223372036854775808"),
            eq("int8", "9223372036854775807", "9223372036854775807"),
            eq("int8", "9007199254740993", "9007199254740993"),
            eq("int8", "0", "0"),
            eq("oid", "4294967295", "4294967295"),
            eq("oid", "0", "0"),
            // floats: extremes, subnormals, negative zero, shortest round-trip text, NaN and infinities
            eq("float4", "'3.4028235e38'", "3.4028235e+38"),
            eq("float4", "'-3.4028235e38'", "-3.4028235e+38"),
            eq("float4", "'1.17549435e-38'", "1.1754944e-38"),
            eq("float4", "'0.1'", "0.1"),
            eq("float4", "'1e-45'", "1e-45"),
            eq("float4", "'-0'", "-0"),
            eq("float4", "'0'", "0"),
            eq("float4", "'16777217'", "1.6777216e+07"),
            eq("float4", "'1.5'", "1.5"),
            nulled("float4", "'NaN'", "null"),
            nulled("float4", "'Infinity'", "null"),
            nulled("float4", "'-Infinity'", "null"),
            eq("float8", "'1e20'", "1e+20"),
            eq("float8", "'1.5e-7'", "1.5e-07"),
            eq("float8", "'0.1'", "0.1"),
            eq("float8", "'0.30000000000000004'", "0.30000000000000004"),
            eq("float8", "'-0'", "-0"),
            eq("float8", "'0'", "0"),
            eq("float8", "'100'", "100"),
            eq("float8", "'1.7976931348623157e308'", "1.7976931348623157e+308"),
            eq("float8", "'-1.7976931348623157e308'", "-1.7976931348623157e+308"),
            eq("float8", "'2.2250738585072014e-308'", "2.2250738585072014e-308"),
            eq("float8", "'4.9e-324'", "5e-324"),
            eq("float8", "'123456789012345678'", "1.2345678901234568e+17"),
            eq("float8", "'3.141592653589793'", "3.141592653589793"),
            nulled("float8", "'Infinity'", "null"),
            nulled("float8", "'-Infinity'", "null"),
            nulled("float8", "'NaN'", "null"),
            // numeric: exact digits, trailing zeros, huge and tiny, negative zero, NaN and infinities
            eq("numeric", "'12.30'", "12.30"),
            eq("numeric", "'12.300000'", "12.300000"),
            eq("numeric", "'1e-20'", "0.00000000000000000001"),
            eq("numeric", "'1e20'", "100000000000000000000"),
            eq("numeric", "'-0.0'", "0.0"),
            eq("numeric", "'-0'", "0"),
            eq("numeric", "'0'", "0"),
            eq("numeric", "'0.000'", "0.000"),
            eq("numeric", "'123456789012345678901234567890.123456789'", "123456789012345678901234567890.123456789"),
            eq("numeric", "'-9223372036854775809'", "-9223372036854775809"),
            eq("numeric", "'1e-1000'", "0." + "0".repeat(999) + "1"),
            eq("numeric", "'1e1000'", "1" + "0".repeat(1000)),
            eq("numeric", "'" + THOUSAND_DIGITS + "'", THOUSAND_DIGITS),
            eq("numeric", "'-" + THOUSAND_DIGITS + "'", "-" + THOUSAND_DIGITS),
            nulled("numeric", "'NaN'", "null"),
            nulled("numeric", "'Infinity'", "null").since(14),
            nulled("numeric", "'-Infinity'", "null").since(14),
            eq("numeric(10,2)", "5", "5.00"),
            eq("numeric(10,2)", "'-12345678.91'", "-12345678.91"),
            eq("numeric(10,2)", "'0.005'", "0.01"),
            eq("numeric(5,0)", "99999", "99999"),
            eq("numeric(5,0)", "'-99999'", "-99999"),
            eq("numeric(5,0)", "'1.5'", "2"),
            eq("numeric(3,-2)", "12345", "12300").since(15),
            // money: exact decimal, no symbol or separators, both ends of the range
            eq("money", "'-1000.5'", "-1000.50"),
            eq("money", "'0'", "0.00"),
            eq("money", "'0.01'", "0.01"),
            eq("money", "'-0.01'", "-0.01"),
            eq("money", "'1234567.89'", "1234567.89"),
            eq("money", "'92233720368547758.07'", "92233720368547758.07"),
            eq("money", "'-92233720368547758.08'", "-92233720368547758.08"),
            // character types: empty, multi-byte and astral, control characters, JSON-special characters
            eq("text", "''", "\"\""),
            eq("text", "'é 中文 😀 𝄞'", "\"é 中文 😀 𝄞\""),
            eq("text", "E'tab\\there\\nline\\r \\\\ \"q\" \\x01 \\x1f'", "\"tab\\there\\nline\\r \\\\ \\\"q\\\" \\u0001 \\u001F\""),
            eq("text", "E'\\x01\\x02\\x03\\x7f'", "\"\\u0001\\u0002\\u0003\u007f\""),
            eq("text", "E'\\b\\f\\x0b'", "\"\\b\\f\\u000B\""),
            eq("text", "E'\\u2028\\u2029\\uFEFF\\uFFFF'", "\"\u2028\u2029\uFEFF\uFFFF\""),
            eq("text", "E'\\U0010FFFF'", "\"\uDBFF\uDFFF\""),
            eq("text", "'\\ud800'", "\"\\\\ud800\""),
            eq("text", "'\\N'", "\"\\\\N\""),
            eq("text", "'NULL'", "\"NULL\""),
            eq("text", "'   '", "\"   \""),
            eq("text", "'</script><!--'", "\"</script><!--\""),
            eq("text", "'" + LONG_TEXT + "'", q(LONG_TEXT)),
            eq("char(5)", "'ab'", "\"ab   \""),
            eq("char(5)", "''", "\"     \""),
            eq("char(5)", "'abcde'", "\"abcde\""),
            eq("char(5)", "'é😀'", "\"é😀   \""),
            eq("varchar(10)", "' x '", "\" x \""),
            eq("varchar(10)", "''", "\"\""),
            eq("varchar(10)", "'😀😀😀😀😀😀😀😀😀😀'", "\"😀😀😀😀😀😀😀😀😀😀\""),
            eq("name", "'abc'", "\"abc\""),
            eq("name", "'" + "n".repeat(63) + "'", q("n".repeat(63))),
            eq("\"char\"", "'a'", "\"a\""),
            eq("\"char\"", "'é'", "\"\\\\303\"").roundTripSince(15),
            eq("citext", "'MiXeD'", "\"MiXeD\""),
            eq("citext", "'Straße'", "\"Straße\""),
            eq("code", "'ab'", "\"ab\""),
            // bytea: empty, every byte value, large
            eq("bytea", "'\\x0a0b0c'", "\"CgsM\""),
            eq("bytea", "''", "\"\""),
            eq("bytea", "'\\x00'", "\"AA==\""),
            eq("bytea", "'\\xfbff'", "\"+/8=\""),
            eq("bytea", "'\\x" + ALL_BYTES_HEX + "'",
                    q(Base64.getEncoder().encodeToString(HexFormat.of().parseHex(ALL_BYTES_HEX)))),
            eq("bytea", "decode('" + LARGE_BYTEA_HEX + "', 'hex')",
                    q(Base64.getEncoder().encodeToString(HexFormat.of().parseHex(LARGE_BYTEA_HEX)))),
            // uuid
            eq("uuid", "'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'", "\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\""),
            eq("uuid", "'{a0eebc999c0b4ef8bb6d6bb9bd380a11}'", "\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\""),
            eq("uuid", "'00000000-0000-0000-0000-000000000000'", "\"00000000-0000-0000-0000-000000000000\""),
            // json keeps its text (duplicate keys, key order, number digits, escapes) minus whitespace; jsonb is normalized
            sameJsonb("json", "'{\"b\":1, \"a\" : [1, 2.50, \"x y\"],\n \"b\": 2}'", "{\"b\":1,\"a\":[1,2.50,\"x y\"],\"b\":2}"),
            sameText("json", "'\"\\ud800\"'", "\"\\ud800\""),
            sameText("json", "'[\"\\udc00x\\ud83d\"]'", "[\"\\udc00x\\ud83d\"]"),
            sameText("json", "'[[[[[[[[[[{\"deep\":[1e400]}]]]]]]]]]]'", "[[[[[[[[[[{\"deep\":[1e400]}]]]]]]]]]]"),
            sameText("json", "'" + THOUSAND_DEEP + "'", THOUSAND_DEEP),
            sameText("json", "'\"\\u0000 \\u00e9 é\"'", "\"\\u0000 \\u00e9 é\""),
            sameJsonb("json", "'{\"k\":\"a b\\t c\",\t\"e\":{}}'", "{\"k\":\"a b\\t c\",\"e\":{}}"),
            sameJsonb("json", "'  42  '", "42"),
            sameText("json", "'-0.0E+00'", "-0.0E+00"),
            sameText("json", "'null'", "null"),
            sameText("json", "'\"\"'", "\"\""),
            eq("jsonb", "'{\"s\": \"😀\", \"n\": 1.0e5, \"z\": null}'", "{\"n\":100000,\"s\":\"😀\",\"z\":null}"),
            eq("jsonb", "'{\"a\": 1, \"a\": 2}'", "{\"a\":2}"),
            eq("jsonb", "'null'", "null"),
            eq("jsonb", "'\"a\\u0001b\"'", "\"a\\u0001b\""),
            eq("jsonb", "'[1, \"two\", [3.10], {\"four\": true}]'", "[1,\"two\",[3.10],{\"four\":true}]"),
            eq("jsonb", "'" + THOUSAND_DEEP + "'", THOUSAND_DEEP),
            eq("jsonb", "'123456789012345678901234567890.5'", "123456789012345678901234567890.5"),
            eq("jsonb", "'{}'", "{}"),
            eq("jsonb", "'[]'", "[]"),
            eq("jsonb", "'\"\\u00e9\\n\"'", "\"é\\n\""),
            // date: leap days, BC, years past 9999, both ends of the range, infinities
            eq("date", "'2024-02-29'", "\"2024-02-29\""),
            eq("date", "'2000-02-29'", "\"2000-02-29\""),
            eq("date", "'1900-03-01'", "\"1900-03-01\""),
            eq("date", "'0001-01-01'", "\"0001-01-01\""),
            eq("date", "'0001-12-31 BC'", "\"0001-12-31 BC\""),
            eq("date", "'0044-03-15 BC'", "\"0044-03-15 BC\""),
            eq("date", "'4713-01-01 BC'", "\"4713-01-01 BC\""),
            eq("date", "'9999-12-31'", "\"9999-12-31\""),
            eq("date", "'10000-01-01'", "\"10000-01-01\""),
            eq("date", "'5874897-12-31'", "\"5874897-12-31\""),
            clamped("date", "'infinity'", "\"9999-12-31\""),
            clamped("date", "'-infinity'", "\"0001-01-01\""),
            // timestamp: fractional seconds of every length, BC, past 9999, range ends, infinities
            eq("timestamp", "'2024-02-29 01:02:03.1'", "\"2024-02-29T01:02:03.1\""),
            eq("timestamp", "'2024-01-02 03:04:05'", "\"2024-01-02T03:04:05\""),
            eq("timestamp", "'2024-01-02 03:04:05.12'", "\"2024-01-02T03:04:05.12\""),
            eq("timestamp", "'2024-01-02 03:04:05.123'", "\"2024-01-02T03:04:05.123\""),
            eq("timestamp", "'2024-01-02 03:04:05.1234'", "\"2024-01-02T03:04:05.1234\""),
            eq("timestamp", "'2024-01-02 03:04:05.12345'", "\"2024-01-02T03:04:05.12345\""),
            eq("timestamp", "'2024-01-02 03:04:05.123456'", "\"2024-01-02T03:04:05.123456\""),
            eq("timestamp", "'2024-01-02 03:04:05.000001'", "\"2024-01-02T03:04:05.000001\""),
            eq("timestamp", "'2024-01-02 03:04:05.1234567'", "\"2024-01-02T03:04:05.123457\""),
            eq("timestamp", "'2024-03-31 02:30:00'", "\"2024-03-31T02:30:00\""),
            eq("timestamp", "'0044-03-15 12:00 BC'", "\"0044-03-15T12:00:00 BC\""),
            eq("timestamp", "'4713-01-01 00:00:00 BC'", "\"4713-01-01T00:00:00 BC\""),
            eq("timestamp", "'9999-12-31 23:59:59.999999'", "\"9999-12-31T23:59:59.999999\""),
            eq("timestamp", "'10000-01-01 00:00:00'", "\"10000-01-01T00:00:00\""),
            eq("timestamp", "'294276-12-31 23:59:59.999999'", "\"294276-12-31T23:59:59.999999\""),
            clamped("timestamp", "'infinity'", "\"9999-12-31T23:59:59.999999\""),
            clamped("timestamp", "'-infinity'", "\"0001-01-01T00:00:00\""),
            eq("timestamp(0)", "'2024-01-02 03:04:05.5'", "\"2024-01-02T03:04:06\""),
            eq("timestamp(3)", "'2024-01-02 03:04:05.123456'", "\"2024-01-02T03:04:05.123\""),
            // timestamptz: always UTC; odd offsets, DST transitions, historic LMT, BC, past 9999, infinities
            eq("timestamptz", "'2024-01-02 03:04:05.123456+05:45'", "\"2024-01-01T21:19:05.123456Z\""),
            eq("timestamptz", "'2024-06-30 23:59:59.5-03:30'", "\"2024-07-01T03:29:59.5Z\""),
            eq("timestamptz", "'2024-01-02 03:04:05+03:30:50'", "\"2024-01-01T23:33:15Z\""),
            eq("timestamptz", "'2024-01-02 03:04:05.1+00'", "\"2024-01-02T03:04:05.1Z\""),
            eq("timestamptz", "'2024-01-02 03:04:05.12+00'", "\"2024-01-02T03:04:05.12Z\""),
            eq("timestamptz", "'2024-01-02 03:04:05.123+00'", "\"2024-01-02T03:04:05.123Z\""),
            eq("timestamptz", "'2024-01-02 03:04:05.1234+00'", "\"2024-01-02T03:04:05.1234Z\""),
            eq("timestamptz", "'2024-01-02 03:04:05.12345+00'", "\"2024-01-02T03:04:05.12345Z\""),
            eq("timestamptz", "'2024-01-02 03:04:05.123456+00'", "\"2024-01-02T03:04:05.123456Z\""),
            eq("timestamptz", "'2024-01-02 03:04:05+00'", "\"2024-01-02T03:04:05Z\""),
            eq("timestamptz", "'2024-02-29 23:30:00-01'", "\"2024-03-01T00:30:00Z\""),
            eq("timestamptz", "'2024-03-31 02:30:00 Europe/Berlin'", "\"2024-03-31T01:30:00Z\""),
            eq("timestamptz", "'2024-10-27 02:30:00+02'", "\"2024-10-27T00:30:00Z\""),
            eq("timestamptz", "'2024-10-27 02:30:00+01'", "\"2024-10-27T01:30:00Z\""),
            eq("timestamptz", "'2024-03-10 01:59:59.999999 America/New_York'", "\"2024-03-10T06:59:59.999999Z\""),
            eq("timestamptz", "'2024-11-03 01:30:00-04'", "\"2024-11-03T05:30:00Z\""),
            eq("timestamptz", "'0044-03-15 12:00+00 BC'", "\"0044-03-15T12:00:00Z BC\""),
            eq("timestamptz", "'4713-01-01 00:00:00+00 BC'", "\"4713-01-01T00:00:00Z BC\""),
            eq("timestamptz", "'10000-01-01 00:00+00'", "\"10000-01-01T00:00:00Z\""),
            eq("timestamptz", "'294276-12-31 23:59:59.999999+00'", "\"294276-12-31T23:59:59.999999Z\""),
            eq("timestamptz", "'1800-01-01 00:00 Europe/Paris'", "\"1799-12-31T23:50:39Z\""),
            eq("timestamptz", "'1970-01-01 00:00:00+00'", "\"1970-01-01T00:00:00Z\""),
            clamped("timestamptz", "'infinity'", "\"9999-12-31T23:59:59.999999Z\""),
            clamped("timestamptz", "'-infinity'", "\"0001-01-01T00:00:00Z\""),
            // time and timetz: every fraction length, 24:00, offsets with minutes and seconds
            eq("time", "'24:00:00'", "\"24:00:00\""),
            eq("time", "'00:00:00'", "\"00:00:00\""),
            eq("time", "'03:04:05.5'", "\"03:04:05.5\""),
            eq("time", "'03:04:05.12'", "\"03:04:05.12\""),
            eq("time", "'03:04:05.123'", "\"03:04:05.123\""),
            eq("time", "'03:04:05.1234'", "\"03:04:05.1234\""),
            eq("time", "'03:04:05.12345'", "\"03:04:05.12345\""),
            eq("time", "'23:59:59.999999'", "\"23:59:59.999999\""),
            eq("time(2)", "'03:04:05.129'", "\"03:04:05.13\""),
            eq("timetz", "'03:04:05+05:45'", "\"03:04:05+05:45\""),
            eq("timetz", "'03:04:05-03:30'", "\"03:04:05-03:30\""),
            eq("timetz", "'03:04:05+03:30:50'", "\"03:04:05+03:30:50\""),
            eq("timetz", "'03:04:05.123456+00'", "\"03:04:05.123456+00:00\""),
            eq("timetz", "'03:04:05.1-01'", "\"03:04:05.1-01:00\""),
            eq("timetz", "'00:00:00+15:59'", "\"00:00:00+15:59\""),
            eq("timetz", "'24:00:00-15:59'", "\"24:00:00-15:59\""),
            // interval: ISO 8601 with signs per field, fractions, range ends, infinities (17+)
            eq("interval", "'1 year 2 mons 3 days 04:05:06.000007'", "\"P1Y2M3DT4H5M6.000007S\""),
            eq("interval", "'0'", "\"PT0S\""),
            eq("interval", "'-1 year -2 mons'", "\"P-1Y-2M\""),
            eq("interval", "'-1 day +02:03'", "\"P-1DT2H3M\""),
            eq("interval", "'-0.5 seconds'", "\"PT-0.5S\""),
            eq("interval", "'1 mon -1 sec'", "\"P1MT-1S\""),
            eq("interval", "'00:00:00.000001'", "\"PT0.000001S\""),
            eq("interval", "'25:00:00'", "\"PT25H\""),
            eq("interval", "'1.5 months'", "\"P1M15D\""),
            eq("interval", "'178000000 years'", "\"P178000000Y\""),
            eq("interval", "'-178000000 years'", "\"P-178000000Y\""),
            eq("interval", "'2147483647 days'", "\"P2147483647D\""),
            eq("interval", "'2562047788:00:54.775807'", "\"PT2562047788H54.775807S\"").since(15),
            nulled("interval", "'infinity'", "null").since(17),
            nulled("interval", "'-infinity'", "null").since(17),
            // enums and domains (over domains)
            eq("mood", "'happy'", "\"happy\""),
            eq("mood", "'très bien'", "\"très bien\""),
            eq("mood", "'a \"b\" c'", "\"a \\\"b\\\" c\""),
            eq("price", "12.30", "12.30"),
            eq("price", "0", "0.00"),
            eq("small_price", "'999.99'", "999.99"),
            // hstore as an object of strings
            eq("hstore", "'a=>1, b=>NULL, \"c d\"=>\"x\\\"y\\\\z\", e=>\"NULL\"'",
                    "{\"a\":\"1\",\"b\":null,\"e\":\"NULL\",\"c d\":\"x\\\"y\\\\z\"}"),
            eq("hstore", "''", "{}"),
            eq("hstore", "'\"é😀\"=>\"\", k=>\"a=>b\"'", "{\"k\":\"a=>b\",\"é😀\":\"\"}"),
            // PostgreSQL's own text output for the rest
            eq("inet", "'192.168.0.1/24'", "\"192.168.0.1/24\""),
            eq("inet", "'::1'", "\"::1\""),
            eq("inet", "'2001:DB8::1/64'", "\"2001:db8::1/64\""),
            eq("cidr", "'10.0.0.0/8'", "\"10.0.0.0/8\""),
            eq("cidr", "'2001:db8::/32'", "\"2001:db8::/32\""),
            eq("macaddr", "'08:00:2B:01:02:03'", "\"08:00:2b:01:02:03\""),
            eq("macaddr8", "'08:00:2b:01:02:03:04:05'", "\"08:00:2b:01:02:03:04:05\""),
            eq("bit(4)", "B'1010'", "\"1010\""),
            eq("bit(4)", "B'0000'", "\"0000\""),
            eq("varbit", "B'101'", "\"101\""),
            eq("varbit", "B''", "\"\""),
            sameText("xml", "'<a>x &amp; y</a>'", "\"<a>x &amp; y</a>\""),
            sameText("xml", "'<é a=\"😀\"/>'", "\"<é a=\\\"😀\\\"/>\""),
            eq("tsvector", "'a fat cat'", "\"'a' 'cat' 'fat'\""),
            eq("tsvector", "'a:1 b:2,3A'", "\"'a':1 'b':2,3A\""),
            eq("tsquery", "'fat & (rat | cat)'", "\"'fat' & ( 'rat' | 'cat' )\""),
            eq("pg_lsn", "'16/B374D848'", "\"16/B374D848\""),
            eq("pg_lsn", "'0/0'", "\"0/0\""),
            eq("pg_lsn", "'FFFFFFFF/FFFFFFFF'", "\"FFFFFFFF/FFFFFFFF\""),
            sameText("point", "'(1,2)'", "\"(1,2)\""),
            sameText("point", "'(0.30000000000000004,-1.5e300)'", "\"(0.30000000000000004,-1.5e+300)\""),
            sameText("box", "'(0,0),(1,1)'", "\"(1,1),(0,0)\""),
            sameText("lseg", "'[(0,0),(1,1)]'", "\"[(0,0),(1,1)]\""),
            sameText("path", "'[(0,0),(1,1),(2,0)]'", "\"[(0,0),(1,1),(2,0)]\""),
            sameText("polygon", "'((0,0),(1,1),(1,0))'", "\"((0,0),(1,1),(1,0))\""),
            sameText("circle", "'<(0,0),0.1>'", "\"<(0,0),0.1>\""),
            sameText("line", "'{1,2,3}'", "\"{1,2,3}\""),
            eq("int4range", "'[1,3)'", "\"[1,3)\""),
            eq("int4range", "'empty'", "\"empty\""),
            eq("int4range", "'(,5]'", "\"(,6)\""),
            eq("int8range", "'[-9223372036854775808,0)'", "\"[-9223372036854775808,0)\""),
            eq("numrange", "'[1.50,2.5)'", "\"[1.50,2.5)\""),
            eq("daterange", "'[2024-02-29,infinity)'", "\"[2024-02-29,infinity)\""),
            eq("tsrange", "'[2024-01-02 03:04:05.5,2024-01-03)'", "\"[\\\"2024-01-02 03:04:05.5\\\",\\\"2024-01-03 00:00:00\\\")\""),
            eq("tstzrange", "'[2024-01-02 03:04:05+05:45,)'", "\"[\\\"2024-01-01 21:19:05+00\\\",)\""),
            eq("int4multirange", "'{[1,3),[5,7)}'", "\"{[1,3),[5,7)}\"").since(14),
            eq("int4multirange", "'{}'", "\"{}\"").since(14),
            eq("pair", "ROW(1, 'a b', NULL)", "\"(1,\\\"a b\\\",)\""),
            eq("pair", "ROW(NULL, '', 'q\"\\')", "\"(,\\\"\\\",\\\"q\\\"\\\"\\\\\\\\\\\")\""),
            eq("ltree", "'a.b.c'", "\"a.b.c\""),
            eq("ltree", "''", "\"\""),
            // arrays: dimensions, NULL elements, empty, non-default lower bounds, every element family
            eq("int4[]", "'{1,2,NULL}'", "[1,2,null]"),
            eq("int4[]", "'{}'", "[]"),
            eq("int4[]", "'{NULL}'", "[null]"),
            eq("int4[]", "'[0:2]={1,2,3}'", "[1,2,3]").equalTo("'{1,2,3}'"),
            eq("int4[]", "'[-5:-4]={-2147483648,2147483647}'", "[-2147483648,2147483647]")
                    .equalTo("'{-2147483648,2147483647}'"),
            eq("int4[][]", "'{{1,2},{3,4}}'", "[[1,2],[3,4]]"),
            eq("int4[][]", "'{{NULL,NULL}}'", "[[null,null]]"),
            eq("int4[][]", "'[2:3][1:2]={{1,2},{3,4}}'", "[[1,2],[3,4]]").equalTo("'{{1,2},{3,4}}'"),
            eq("int4[][]", "'{}'", "[]"),
            eq("int8[][][]", "'{{{1},{2}},{{3},{4}}}'", "[[[1],[2]],[[3],[4]]]"),
            // PostgreSQL ignores the declared dimensions: the schema must take any from 1 to 6
            eq("int4[]", "'{{1,2,3},{4,5,6}}'", "[[1,2,3],[4,5,6]]"),
            eq("int4[]", "'{{{{{{1,2}},{{3,NULL}}}}}}'", "[[[[[[1,2]],[[3,null]]]]]]"),
            eq("int4[][][]", "'{3,4}'", "[3,4]"),
            eq("mood[]", "'{{sad,happy},{ok,NULL}}'", "[[\"sad\",\"happy\"],[\"ok\",null]]"),
            eq("varchar(3)[]", "'{{abc},{\"\"}}'", "[[\"abc\"],[\"\"]]"),
            eq("text[]", "ARRAY['a b', 'c\"d', NULL, 'NULL', '', ' x ', 'a,b', 'a\\b', '{}', 'é😀']",
                    "[\"a b\",\"c\\\"d\",null,\"NULL\",\"\",\" x \",\"a,b\",\"a\\\\b\",\"{}\",\"é😀\"]"),
            eq("text[]", "ARRAY[E'\\x01\\n', 'null', '\\N']", "[\"\\u0001\\n\",\"null\",\"\\\\N\"]"),
            eq("text[]", "'{}'", "[]"),
            eq("varchar(3)[]", "ARRAY['abc', '']", "[\"abc\",\"\"]"),
            nulled("float8[]", "'{NaN,1.5,-Infinity}'", "[null,1.5,null]"),
            eq("float8[]", "'{-0,1e300,5e-324}'", "[-0,1e+300,5e-324]"),
            eq("float4[]", "'{0.1,-0}'", "[0.1,-0]"),
            eq("numeric[]", "'{12.30,1e-20}'", "[12.30,0.00000000000000000001]"),
            nulled("numeric[]", "'{NaN,1}'", "[null,1]"),
            eq("int2[]", "'{-32768,32767}'", "[-32768,32767]"),
            eq("int8[]", "'{-9223372036854775808,9223372036854775807}'", "[-9223372036854775808,9223372036854775807]"),
            eq("bytea[]", "ARRAY['\\x0a0b'::bytea, '']", "[\"Cgs=\",\"\"]"),
            sameText("json[]", "ARRAY['{\"a\":[1,\"x,y\"]}'::json, 'null', '\"s\"']", "[{\"a\":[1,\"x,y\"]},null,\"s\"]"),
            eq("jsonb[]", "ARRAY['{\"a\": 1}'::jsonb, '[]']", "[{\"a\":1},[]]"),
            eq("timestamptz[]", "ARRAY['2024-01-02 03:04:05+00'::timestamptz, NULL]", "[\"2024-01-02T03:04:05Z\",null]"),
            eq("timestamp[]", "ARRAY['2024-01-02 03:04:05.5'::timestamp, '10000-01-01']",
                    "[\"2024-01-02T03:04:05.5\",\"10000-01-01T00:00:00\"]"),
            clamped("timestamp[]", "ARRAY['infinity'::timestamp]", "[\"9999-12-31T23:59:59.999999\"]"),
            eq("date[]", "ARRAY['0044-03-15 BC'::date, '2024-02-29']", "[\"0044-03-15 BC\",\"2024-02-29\"]"),
            eq("time[]", "ARRAY['24:00'::time, '00:00:00.000001']", "[\"24:00:00\",\"00:00:00.000001\"]"),
            eq("timetz[]", "ARRAY['03:04:05+00'::timetz]", "[\"03:04:05+00:00\"]"),
            eq("interval[]", "ARRAY['1 year'::interval, '0']", "[\"P1Y\",\"PT0S\"]"),
            eq("money[]", "ARRAY['-1000.5'::money]", "[-1000.50]"),
            eq("boolean[]", "'{t,f,NULL}'", "[true,false,null]"),
            eq("char(3)[]", "ARRAY['a'::char(3)]", "[\"a  \"]"),
            eq("uuid[]", "ARRAY['A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'::uuid]", "[\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\"]"),
            eq("mood[]", "'{sad,happy}'", "[\"sad\",\"happy\"]"),
            eq("hstore[]", "ARRAY['a=>1, b=>NULL'::hstore]", "[{\"a\":\"1\",\"b\":null}]"),
            eq("inet[]", "ARRAY['::1'::inet, '10.0.0.1']", "[\"::1\",\"10.0.0.1\"]"),
            eq("pair[]", "ARRAY[ROW(1, 'x', NULL)::pair]", "[\"(1,x,)\"]"),
            sameText("box[]", "ARRAY['(0,0),(1,1)'::box, '(2,2),(3,3)']", "[\"(1,1),(0,0)\",\"(3,3),(2,2)\"]"),
            eq("int4range[]", "ARRAY['[1,3)'::int4range, 'empty']", "[\"[1,3)\",\"empty\"]"));

    /** The JSON Schema discovery must give a nullable column of each type (single quotes stand for double). */
    static final Map<String, String> SCHEMAS = schemas(
            "boolean", "{'type':['boolean','null']}",
            "int2", "{'type':['integer','null']}",
            "int4", "{'type':['integer','null']}",
            "int8", "{'type':['integer','null']}",
            "oid", "{'type':['integer','null']}",
            "float4", "{'type':['number','null']}",
            "float8", "{'type':['number','null']}",
            "numeric", "{'type':['number','null']}",
            "numeric(10,2)", "{'type':['number','null']}",
            "numeric(5,0)", "{'type':['integer','null']}",
            "numeric(3,-2)", "{'type':['integer','null']}",
            "money", "{'type':['number','null']}",
            "text", "{'type':['string','null']}",
            "char(5)", "{'type':['string','null'],'maxLength':5}",
            "varchar(10)", "{'type':['string','null'],'maxLength':10}",
            "name", "{'type':['string','null']}",
            "\"char\"", "{'type':['string','null']}",
            "citext", "{'type':['string','null']}",
            "code", "{'type':['string','null'],'maxLength':5}",
            "bytea", "{'type':['string','null'],'contentEncoding':'base64'}",
            "uuid", "{'type':['string','null'],'format':'uuid'}",
            "json", "{}",
            "jsonb", "{}",
            "date", "{'type':['string','null'],'format':'date'}",
            "timestamp", "{'type':['string','null'],'format':'date-time','airbyte_type':'timestamp_without_timezone'}",
            "timestamp(0)", "{'type':['string','null'],'format':'date-time','airbyte_type':'timestamp_without_timezone'}",
            "timestamp(3)", "{'type':['string','null'],'format':'date-time','airbyte_type':'timestamp_without_timezone'}",
            "timestamptz", "{'type':['string','null'],'format':'date-time','airbyte_type':'timestamp_with_timezone'}",
            "time", "{'type':['string','null'],'format':'time','airbyte_type':'time_without_timezone'}",
            "time(2)", "{'type':['string','null'],'format':'time','airbyte_type':'time_without_timezone'}",
            "timetz", "{'type':['string','null'],'format':'time','airbyte_type':'time_with_timezone'}",
            "interval", "{'type':['string','null']}",
            "mood", "{'type':['string','null'],'enum':['sad','ok','happy','très bien','a \\'b\\' c',null]}",
            "price", "{'type':['number','null']}",
            "small_price", "{'type':['number','null']}",
            "hstore", "{'type':['object','null'],'additionalProperties':{'type':['string','null']}}",
            "inet", "{'type':['string','null']}",
            "cidr", "{'type':['string','null']}",
            "macaddr", "{'type':['string','null']}",
            "macaddr8", "{'type':['string','null']}",
            "bit(4)", "{'type':['string','null']}",
            "varbit", "{'type':['string','null']}",
            "xml", "{'type':['string','null']}",
            "tsvector", "{'type':['string','null']}",
            "tsquery", "{'type':['string','null']}",
            "pg_lsn", "{'type':['string','null']}",
            "point", "{'type':['string','null']}",
            "box", "{'type':['string','null']}",
            "lseg", "{'type':['string','null']}",
            "path", "{'type':['string','null']}",
            "polygon", "{'type':['string','null']}",
            "circle", "{'type':['string','null']}",
            "line", "{'type':['string','null']}",
            "int4range", "{'type':['string','null']}",
            "int8range", "{'type':['string','null']}",
            "numrange", "{'type':['string','null']}",
            "daterange", "{'type':['string','null']}",
            "tsrange", "{'type':['string','null']}",
            "tstzrange", "{'type':['string','null']}",
            "int4multirange", "{'type':['string','null']}",
            "pair", "{'type':['string','null']}",
            "ltree", "{'type':['string','null']}",
            "int4[]", anyDimensions("integer", "", ""),
            "int4[][]", anyDimensions("integer", "", ""),
            "int8[][][]", anyDimensions("integer", "", ""),
            "int4[][][]", anyDimensions("integer", "", ""),
            "text[]", anyDimensions("string", "", ""),
            "varchar(3)[]", anyDimensions("string", ",'maxLength':3", ""),
            "float8[]", anyDimensions("number", "", ""),
            "float4[]", anyDimensions("number", "", ""),
            "numeric[]", anyDimensions("number", "", ""),
            "int2[]", anyDimensions("integer", "", ""),
            "int8[]", anyDimensions("integer", "", ""),
            "bytea[]", anyDimensions("string", ",'contentEncoding':'base64'", ""),
            "json[]", "{'type':['array','null'],'items':{}}",
            "jsonb[]", "{'type':['array','null'],'items':{}}",
            "timestamptz[]", anyDimensions("string", ",'format':'date-time','airbyte_type':'timestamp_with_timezone'", ""),
            "timestamp[]", anyDimensions("string", ",'format':'date-time','airbyte_type':'timestamp_without_timezone'", ""),
            "date[]", anyDimensions("string", ",'format':'date'", ""),
            "time[]", anyDimensions("string", ",'format':'time','airbyte_type':'time_without_timezone'", ""),
            "timetz[]", anyDimensions("string", ",'format':'time','airbyte_type':'time_with_timezone'", ""),
            "interval[]", anyDimensions("string", "", ""),
            "money[]", anyDimensions("number", "", ""),
            "boolean[]", anyDimensions("boolean", "", ""),
            "char(3)[]", anyDimensions("string", ",'maxLength':3", ""),
            "uuid[]", anyDimensions("string", ",'format':'uuid'", ""),
            "mood[]", anyDimensions("string", "", ",'enum':['sad','ok','happy','très bien','a \\'b\\' c',null]"),
            "hstore[]", anyDimensions("object", ",'additionalProperties':{'type':['string','null']}", ""),
            "inet[]", anyDimensions("string", "", ""),
            "pair[]", anyDimensions("string", "", ""),
            "box[]", anyDimensions("string", "", ""),
            "int4range[]", anyDimensions("string", "", ""));

    /**
     * The schema of an array column whose elements are {@code {'type':[type,'null']}} plus {@code keywords}: any
     * number of dimensions up to 6, each level below the outer one admitting an element or an array;
     * {@code innermostOnly} (an enum's labels) only at the sixth level, which holds elements only.
     */
    static String anyDimensions(String type, String keywords, String innermostOnly) {
        String level = "{'type':['" + type + "','null']" + keywords + innermostOnly + "}";
        for (int d = 5; d >= 1; d--) {
            level = "{'type':['" + type + "','array','null']" + keywords + ",'items':" + level + "}";
        }
        return "{'type':['array','null'],'items':" + level + "}";
    }

    private static Map<String, String> schemas(String... pairs) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            // ' stands for ", and \' for a quote inside a label
            m.put(pairs[i], pairs[i + 1].replace("\\'", "\u0000").replace('\'', '"').replace("\u0000", "\\\""));
        }
        return m;
    }

    /** A JSON reader for round trips: duplicate keys allowed (json keeps them), numbers exact, deep nesting. */
    static final ObjectMapper READER = new ObjectMapper(JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNumberLength(Integer.MAX_VALUE)
                    .maxNestingDepth(100_000).maxStringLength(Integer.MAX_VALUE).build())
            .build())
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);

    /** Whether PostgreSQL reads the emitted JSON back as a value equal to the case's original. */
    static boolean readsBackEqual(Connection c, Case k, String emitted) throws SQLException, IOException {
        String original = k.equalTo() != null ? "(" + k.equalTo() + ")::" + k.type() : k.value();
        String emittedValue = "CAST(? AS " + k.type() + ")";
        String sql = switch (k.check()) {
            case EQUAL -> "SELECT " + emittedValue + " = " + original;
            case SAME_TEXT -> "SELECT format('%s', " + emittedValue + ") = format('%s', " + original + ")";
            case SAME_JSONB -> "SELECT " + emittedValue + "::jsonb = " + original + "::jsonb";
            case CLAMPED -> k.type().endsWith("[]")
                    ? "SELECT bool_and(isfinite(e)) FROM unnest(" + emittedValue + ") e"
                    : "SELECT isfinite(" + emittedValue + ")";
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
            return arrayLiteral(node, type.substring(0, type.indexOf('[')));
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
}
