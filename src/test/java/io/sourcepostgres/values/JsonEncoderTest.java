package io.sourcepostgres.values;

import static io.sourcepostgres.values.Encoding.JSON;
import static io.sourcepostgres.values.Encoding.JSONB;
import static io.sourcepostgres.values.Encoding.encode;
import static io.sourcepostgres.values.Encoding.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import io.sourcepostgres.airbyte.Json;
import org.junit.jupiter.api.Test;

class JsonEncoderTest {
    @Test
    void theValueIsEmbeddedNotQuoted() {
        assertThat(json(JSONB, "{\"a\": [100000, 0.001], \"b\": 1}")).isEqualTo("{\"a\":[100000,0.001],\"b\":1}");
        assertThat(json(JSONB, "\"s\"")).isEqualTo("\"s\"");
        assertThat(json(JSONB, "null")).isEqualTo("null");
        assertThat(json(JSONB, "12.30")).isEqualTo("12.30");
        assertThat(json(JSON, "[]")).isEqualTo("[]");
    }

    @Test
    void jsonKeepsDuplicateKeysOrderAndNumberSpelling() {
        assertThat(json(JSON, "{\"b\":1,\"a\":2,\"b\":1.0e5}")).isEqualTo("{\"b\":1,\"a\":2,\"b\":1.0e5}");
    }

    @Test
    void whitespaceBetweenTokensIncludingLineBreaksIsDroppedButNotInsideStrings() {
        String typed = "  {\"a\" :\n 1 ,\r\n\t\"b c\": \"x  y\\\" z\" }  ";
        assertThat(json(JSON, typed)).isEqualTo("{\"a\":1,\"b c\":\"x  y\\\" z\"}");
    }

    @Test
    void escapedQuotesAndBackslashesDoNotConfuseTheStringTracking() {
        assertThat(json(JSON, "[\"a\\\\\", 1, \"\\\"\" , \"b\"]")).isEqualTo("[\"a\\\\\",1,\"\\\"\",\"b\"]");
    }

    @Test
    void aLoneSurrogateEscapeStaysAnAsciiEscapeAndTheOutputStaysValidUtf8() throws Exception {
        String out = json(JSON, "{\"s\":\"\\ud800\", \"t\": \"\\ud83d\\ude00 \\u0000\"}");
        assertThat(out).isEqualTo("{\"s\":\"\\ud800\",\"t\":\"\\ud83d\\ude00 \\u0000\"}");
        assertThat(Json.MAPPER.readTree(out).get("t").textValue()).isEqualTo("😀 \u0000");
    }

    @Test
    void multiByteTextInsideJsonStaysAsIs() {
        assertThat(json(JSONB, "{\"s\": \"😀 é\"}")).isEqualTo("{\"s\":\"😀 é\"}");
    }

    @Test
    void deepNestingAndLargeNumbersAreCopiedNotParsed() throws Exception {
        int depth = 5000;
        String deep = "[".repeat(depth) + "{\"k\": 1e400}" + "]".repeat(depth);
        String out = json(JSON, deep);
        assertThat(out).isEqualTo("[".repeat(depth) + "{\"k\":1e400}" + "]".repeat(depth));
        try (JsonParser p = JsonFactory.builder()
                .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(depth + 1).build()).build()
                .createParser(out)) {
            int tokens = 0;
            while (p.nextToken() != null) {
                tokens++;
            }
            assertThat(tokens).isEqualTo(2 * depth + 4);
        }
    }

    @Test
    void aLargeDocumentLongerThanTheGeneratorBufferIsWrittenWhole() throws Exception {
        StringBuilder doc = new StringBuilder("{");
        for (int i = 0; i < 20_000; i++) {
            doc.append(i == 0 ? "" : ", ").append("\"k").append(i).append("\": ").append(i);
        }
        doc.append('}');
        String out = json(JSONB, doc.toString());
        assertThat(out).isEqualTo(doc.toString().replace(" ", ""));
        try (JsonParser p = new JsonFactory().createParser(out)) {
            assertThat(p.nextToken()).isEqualTo(JsonToken.START_OBJECT);
        }
    }

    @Test
    void emptyTextIsRefused() {
        assertThatThrownBy(() -> encode(JSON, "")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> encode(JSON, " \n ")).isInstanceOf(IllegalArgumentException.class);
    }
}
