package io.sourcepostgres.values;

import static io.sourcepostgres.values.Encoding.BYTEA;
import static io.sourcepostgres.values.Encoding.encode;
import static io.sourcepostgres.values.Encoding.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Base64;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ByteaEncoderTest {
    @Test
    void hexBecomesPaddedStandardBase64() {
        assertThat(json(BYTEA, "\\x")).isEqualTo("\"\"");
        assertThat(json(BYTEA, "\\x0a")).isEqualTo("\"Cg==\"");
        assertThat(json(BYTEA, "\\x0a0b")).isEqualTo("\"Cgs=\"");
        assertThat(json(BYTEA, "\\x0a0b0c")).isEqualTo("\"CgsM\"");
        // 0xfb 0xff uses both characters where base64 and base64url differ.
        assertThat(json(BYTEA, "\\xfbff")).isEqualTo("\"+/8=\"");
        assertThat(json(BYTEA, "\\xFBFF")).isEqualTo("\"+/8=\"");
    }

    @Test
    void aLargeValueRoundTripsWithoutLineBreaks() {
        byte[] data = new byte[3_000_001];
        new Random(7).nextBytes(data);
        String json = json(BYTEA, "\\x" + HexFormat.of().formatHex(data));
        assertThat(json).doesNotContain("\n", "\r");
        assertThat(Base64.getDecoder().decode(json.substring(1, json.length() - 1))).isEqualTo(data);
    }

    @Test
    void escapeFormatAndBrokenHexAreRefused() {
        for (String text : new String[] {"abc", "\\001", "\\x0", "\\x0g", ""}) {
            assertThatThrownBy(() -> encode(BYTEA, text)).as(text).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("bytea");
        }
    }
}
