package io.sourcepostgres.values;

import static io.sourcepostgres.values.Encoding.BOOL;
import static io.sourcepostgres.values.Encoding.BOX;
import static io.sourcepostgres.values.Encoding.BPCHAR;
import static io.sourcepostgres.values.Encoding.BYTEA;
import static io.sourcepostgres.values.Encoding.DATE;
import static io.sourcepostgres.values.Encoding.FLOAT8;
import static io.sourcepostgres.values.Encoding.HSTORE;
import static io.sourcepostgres.values.Encoding.INT4;
import static io.sourcepostgres.values.Encoding.INTERVAL;
import static io.sourcepostgres.values.Encoding.JSON;
import static io.sourcepostgres.values.Encoding.MONEY;
import static io.sourcepostgres.values.Encoding.NUMERIC;
import static io.sourcepostgres.values.Encoding.TEXT;
import static io.sourcepostgres.values.Encoding.TIMESTAMPTZ;
import static io.sourcepostgres.values.Encoding.arrayOf;
import static io.sourcepostgres.values.Encoding.encode;
import static io.sourcepostgres.values.Encoding.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sourcepostgres.values.Encoding.Encoded;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Arrays, from PostgreSQL 17 output. */
class ArrayEncoderTest {
    @Test
    void numbersAndNullsOneAndTwoDimensions() {
        assertThat(json(arrayOf(INT4), "{1,2,NULL}")).isEqualTo("[1,2,null]");
        assertThat(json(arrayOf(INT4), "{{1,2},{3,4}}")).isEqualTo("[[1,2],[3,4]]");
        assertThat(json(arrayOf(INT4), "{{{1},{2}},{{3},{4}}}")).isEqualTo("[[[1],[2]],[[3],[4]]]");
        assertThat(json(arrayOf(INT4), "{}")).isEqualTo("[]");
    }

    @Test
    void quotedElementsAreUnescapedAndAQuotedNullIsTheString() {
        String text = "{\"a b\",\"c\\\"d\",NULL,\"NULL\",\"\",\" x \",\"a,b\",\"a\\\\b\",\"{}\",plain,null2}";
        assertThat(json(arrayOf(TEXT), text))
                .isEqualTo("[\"a b\",\"c\\\"d\",null,\"NULL\",\"\",\" x \",\"a,b\",\"a\\\\b\",\"{}\",\"plain\",\"null2\"]");
    }

    @Test
    void multiByteElementsQuotedAndUnquoted() {
        assertThat(json(arrayOf(TEXT), "{é,\"😀 x\",\"\\\"😀\"}")).isEqualTo("[\"é\",\"😀 x\",\"\\\"😀\"]");
    }

    @Test
    void nonDefaultLowerBoundsAreDroppedKeepingTheElements() {
        assertThat(json(arrayOf(INT4), "[0:2]={1,2,3}")).isEqualTo("[1,2,3]");
        assertThat(json(arrayOf(INT4), "[1:1][-2:-1]={{1,2}}")).isEqualTo("[[1,2]]");
    }

    @Test
    void elementsAreEncodedByTheirOwnType() {
        assertThat(json(arrayOf(NUMERIC), "{0.00000000000000000001,12.30}")).isEqualTo("[0.00000000000000000001,12.30]");
        assertThat(json(arrayOf(BYTEA), "{\"\\\\x0a0b\",\"\\\\x\"}")).isEqualTo("[\"Cgs=\",\"\"]");
        assertThat(json(arrayOf(JSON), "{\"{\\\"a\\\": [1, \\\"x,y\\\"]}\",\"null\",\"\\\"s\\\"\"}"))
                .isEqualTo("[{\"a\":[1,\"x,y\"]},null,\"s\"]");
        assertThat(json(arrayOf(TIMESTAMPTZ), "{\"2024-01-02 03:04:05+00\",infinity}"))
                .isEqualTo("[\"2024-01-02T03:04:05Z\",\"9999-12-31T23:59:59.999999Z\"]");
        assertThat(json(arrayOf(DATE), "{\"0044-03-15 BC\"}")).isEqualTo("[\"0044-03-15 BC\"]");
        assertThat(json(arrayOf(MONEY), "{\"-$1,000.00\"}")).isEqualTo("[-1000.00]");
        assertThat(json(arrayOf(BOOL), "{t,f}")).isEqualTo("[true,false]");
        assertThat(json(arrayOf(BPCHAR), "{\"   \"}")).isEqualTo("[\"   \"]");
        assertThat(json(arrayOf(INTERVAL), "{P1Y,PT0S}")).isEqualTo("[\"P1Y\",\"PT0S\"]");
        assertThat(json(arrayOf(HSTORE), "{\"\\\"a\\\"=>\\\"1\\\", \\\"b\\\"=>NULL\",NULL}")).isEqualTo("[{\"a\":\"1\",\"b\":null},null]");
    }

    @Test
    void boxArraysAreSeparatedBySemicolons() {
        assertThat(json(arrayOf(BOX), "{(3,4),(1,2);(1,1),(0,0)}")).isEqualTo("[\"(3,4),(1,2)\",\"(1,1),(0,0)\"]");
    }

    @Test
    void anUnrepresentableElementIsNulledAndTheArrayReported() {
        assertThat(encode(arrayOf(FLOAT8), "{NaN,1.5,-Infinity}")).isEqualTo(new Encoded("[null,1.5,null]", false));
        assertThat(encode(arrayOf(FLOAT8), "{{1.5},{Infinity}}")).isEqualTo(new Encoded("[[1.5],[null]]", false));
        assertThat(encode(arrayOf(FLOAT8), "{1.5,NULL}")).isEqualTo(new Encoded("[1.5,null]", true));
    }

    @Test
    void arraysOfADomainUseTheBaseTypesEncoder() {
        PgType positive = new PgType(16700, "public", "positive", 'd', 'N', null, NUMERIC, List.of());
        assertThat(json(arrayOf(positive), "{1.50,2}")).isEqualTo("[1.50,2]");
    }

    @Test
    void brokenTextIsRefused() {
        for (String text : new String[] {"", "1,2", "{1,2", "{1,,2}", "{\"a}", "{1}x", "[0:2]", "{{1},2"}) {
            assertThatThrownBy(() -> encode(arrayOf(INT4), text)).as(text).isInstanceOf(IllegalArgumentException.class);
        }
    }
}
