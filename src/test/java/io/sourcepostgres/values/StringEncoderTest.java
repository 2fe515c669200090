package io.sourcepostgres.values;

import static io.sourcepostgres.values.Encoding.BPCHAR;
import static io.sourcepostgres.values.Encoding.CHAR;
import static io.sourcepostgres.values.Encoding.CITEXT;
import static io.sourcepostgres.values.Encoding.INET;
import static io.sourcepostgres.values.Encoding.NAME;
import static io.sourcepostgres.values.Encoding.TEXT;
import static io.sourcepostgres.values.Encoding.UUID;
import static io.sourcepostgres.values.Encoding.VARCHAR;
import static io.sourcepostgres.values.Encoding.encode;
import static io.sourcepostgres.values.Encoding.json;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.sourcepostgres.airbyte.Json;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;

class StringEncoderTest {
    @Test
    void textIsWrittenAsStoredIncludingBlankPadding() {
        assertThat(json(TEXT, "")).isEqualTo("\"\"");
        assertThat(json(BPCHAR, "a  ")).isEqualTo("\"a  \"");
        assertThat(json(VARCHAR, " x ")).isEqualTo("\" x \"");
        assertThat(json(NAME, "abc")).isEqualTo("\"abc\"");
        assertThat(json(CITEXT, "MiXeD")).isEqualTo("\"MiXeD\"");
    }

    @Test
    void multiByteAndAstralCharactersSurviveAsUtf8() throws Exception {
        String text = "é ü 中文 😀 𝄞";
        String json = json(TEXT, text);
        assertThat(Json.MAPPER.readTree(json).textValue()).isEqualTo(text);
        assertThat(json).isEqualTo("\"" + text + "\"");
    }

    @Test
    void controlCharactersQuotesAndBackslashesAreEscaped() throws Exception {
        String text = "tab\there\nnew\rline \u0001\u001f \"quoted\" back\\slash \u007f";
        String json = json(TEXT, text);
        assertThat(json).doesNotContain("\n", "\r", "\t", "\u0001", "\u001f");
        assertThat(Json.MAPPER.readTree(json).textValue()).isEqualTo(text);
    }

    @Test
    void uuidAndOtherTypesAreTheirTextOutput() {
        assertThat(json(UUID, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")).isEqualTo("\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\"");
        assertThat(json(INET, "192.168.0.1/24")).isEqualTo("\"192.168.0.1/24\"");
    }

    @Test
    void enumLabelsAreStrings() {
        PgType mood = new PgType(16600, "public", "mood", 'e', 'E', null, null, List.of("sad", "ok", "happy"));
        assertThat(json(mood, "happy")).isEqualTo("\"happy\"");
    }

    @Test
    void internalCharWritesHighBytesAsPostgres15DoesSoOutputStaysUtf8() {
        assertThat(json(CHAR, "a")).isEqualTo("\"a\"");
        assertThat(json(CHAR, "")).isEqualTo("\"\"");
        // PostgreSQL 12-14 send the raw byte 0xC3 for 'é'::"char"; 15+ send \303.
        assertThat(encode(CHAR, new byte[] {(byte) 0xC3}).json()).isEqualTo("\"\\\\303\"");
        assertThat(json(CHAR, "\\303")).isEqualTo("\"\\\\303\"");
    }

    @Test
    void aCharacterWriterGeneratorGetsTheSameJson() throws Exception {
        StringWriter text = new StringWriter();
        try (JsonGenerator out = new JsonFactory().createGenerator(text)) {
            out.writeStartArray();
            ValueEncoders.write(ValueEncoders.forType(TEXT, -1), out, "😀\n");
            ValueEncoders.write(ValueEncoders.forType(Encoding.JSONB, -1), out, "{\"a\": [1, 2.50]}");
            ValueEncoders.write(ValueEncoders.forType(Encoding.NUMERIC, -1), out, "12.30");
            out.writeEndArray();
        }
        assertThat(text.toString()).isEqualTo("[\"😀\\n\",{\"a\":[1,2.50]},12.30]");
    }
}
