package io.sourcepostgres.values;

import static io.sourcepostgres.values.Encoding.FLOAT4;
import static io.sourcepostgres.values.Encoding.FLOAT8;
import static io.sourcepostgres.values.Encoding.NUMERIC;
import static io.sourcepostgres.values.Encoding.encode;
import static io.sourcepostgres.values.Encoding.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sourcepostgres.values.Encoding.Encoded;
import org.junit.jupiter.api.Test;

class NumberEncoderTest {
    @Test
    void floatsAreWrittenAsPostgresPrintsThemWithExtraFloatDigits3() {
        // Copied from PostgreSQL 17 output under extra_float_digits = 3.
        for (String text : new String[] {"1e+20", "1.5e-07", "0.1", "1e-320", "3.4028235e+38", "1.2345678901234568e+17",
                "1.7976931348623157e+308", "-1.7976931348623157e+308", "2.2250738585072014e-308", "1e-45", "0", "42"}) {
            assertThat(json(FLOAT8, text)).isEqualTo(text);
        }
        assertThat(json(FLOAT4, "3.4028235e+38")).isEqualTo("3.4028235e+38");
    }

    @Test
    void negativeZeroStaysNegativeZero() {
        assertThat(json(FLOAT8, "-0")).isEqualTo("-0");
    }

    @Test
    void nanAndInfinitiesBecomeNullAndAreReported() {
        for (PgType type : new PgType[] {FLOAT4, FLOAT8, NUMERIC}) {
            for (String text : new String[] {"NaN", "Infinity", "-Infinity"}) {
                assertThat(encode(type, text)).isEqualTo(new Encoded("null", false));
            }
        }
    }

    @Test
    void numericKeepsItsExactDigits() {
        assertThat(json(NUMERIC, "12.30")).isEqualTo("12.30");
        assertThat(json(NUMERIC, "0.00000000000000000001")).isEqualTo("0.00000000000000000001");
        assertThat(json(NUMERIC, "100000000000000000000")).isEqualTo("100000000000000000000");
        assertThat(json(NUMERIC, "0.0")).isEqualTo("0.0");
        assertThat(json(NUMERIC, "-123.4500")).isEqualTo("-123.4500");
    }

    @Test
    void aThousandDigitNumericArrivesIntact() {
        String digits = "9".repeat(1000) + "." + "0123456789".repeat(100);
        assertThat(json(NUMERIC, digits)).isEqualTo(digits);
        assertThat(json(NUMERIC, "-" + digits)).isEqualTo("-" + digits);
    }

    @Test
    void textThatIsNotAJsonNumberIsRefused() {
        for (String text : new String[] {"", ".5", "5.", "+1", "1e", "nan", "inf", "1,5", "0x10", "Infinityx"}) {
            assertThatThrownBy(() -> encode(NUMERIC, text)).as(text).isInstanceOf(IllegalArgumentException.class);
        }
    }
}
