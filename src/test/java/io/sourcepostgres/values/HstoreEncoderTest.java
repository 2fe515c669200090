package io.sourcepostgres.values;

import static io.sourcepostgres.values.Encoding.HSTORE;
import static io.sourcepostgres.values.Encoding.encode;
import static io.sourcepostgres.values.Encoding.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** hstore, from PostgreSQL 17 output. */
class HstoreEncoderTest {
    @Test
    void pairsBecomeAnObjectOfStringsAndNulls() {
        String text = "\"\"=>\"\", \"a\"=>\"1\", \"b\"=>NULL, \"e\"=>\"NULL\", \"c d\"=>\"x\\\"y\\\\z\"";
        assertThat(json(HSTORE, text)).isEqualTo("{\"\":\"\",\"a\":\"1\",\"b\":null,\"e\":\"NULL\",\"c d\":\"x\\\"y\\\\z\"}");
    }

    @Test
    void emptyHstoreIsAnEmptyObject() {
        assertThat(json(HSTORE, "")).isEqualTo("{}");
    }

    @Test
    void multiByteKeysAndValuesAndEscapedKeys() {
        assertThat(json(HSTORE, "\"é\"=>\"😀\", \"k\\\"=>\"=>\"=>, \"")).isEqualTo("{\"é\":\"😀\",\"k\\\"=>\":\"=>, \"}");
    }

    @Test
    void astralKeysAreUtf8LikeValuesNotSurrogateEscapes() {
        assertThat(json(HSTORE, "\"😀\"=>\"😀\", \"\u0001\"=>\"\"")).isEqualTo("{\"😀\":\"😀\",\"\\u0001\":\"\"}");
    }

    @Test
    void brokenTextIsRefused() {
        for (String text : new String[] {"a=>1", "\"a\"=>", "\"a\"=>\"1\",\"b\"=>\"2\"", "\"a\"=\"1\"", "\"a"}) {
            assertThatThrownBy(() -> encode(HSTORE, text)).as(text).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("hstore");
        }
    }
}
