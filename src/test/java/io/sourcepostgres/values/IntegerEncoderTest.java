package io.sourcepostgres.values;

import static io.sourcepostgres.values.Encoding.INT2;
import static io.sourcepostgres.values.Encoding.INT4;
import static io.sourcepostgres.values.Encoding.INT8;
import static io.sourcepostgres.values.Encoding.OID;
import static io.sourcepostgres.values.Encoding.encode;
import static io.sourcepostgres.values.Encoding.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class IntegerEncoderTest {
    @Test
    void theExtremesOfEveryIntegerTypeAreWrittenExactly() {
        assertThat(json(INT2, "-32768")).isEqualTo("-32768");
        assertThat(json(INT2, "32767")).isEqualTo("32767");
        assertThat(json(INT4, "-2147483648")).isEqualTo("-2147483648");
        assertThat(json(INT4, "2147483647")).isEqualTo("2147483647");
        assertThat(json(INT8, "-9223372036854775808")).isEqualTo("-9223372036854775808");
        assertThat(json(INT8, "9223372036854775807")).isEqualTo("9223372036854775807");
        assertThat(json(OID, "4294967295")).isEqualTo("4294967295");
        assertThat(json(INT4, "0")).isEqualTo("0");
    }

    @Test
    void textThatIsNotAJsonIntegerIsRefused() {
        for (String text : new String[] {"", "-", "+1", "01", "1.0", "1e3", "NaN", " 1"}) {
            assertThatThrownBy(() -> encode(INT8, text)).as(text).isInstanceOf(IllegalArgumentException.class);
        }
    }
}
