package io.sourcepostgres.values;

import static io.sourcepostgres.values.Encoding.TIME;
import static io.sourcepostgres.values.Encoding.TIMETZ;
import static io.sourcepostgres.values.Encoding.encode;
import static io.sourcepostgres.values.Encoding.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** time and timetz, from PostgreSQL 17 output. */
class TimeEncoderTest {
    @Test
    void timeIsWrittenAsPrintedIncludingTheEndOfDay() {
        assertThat(json(TIME, "03:04:05")).isEqualTo("\"03:04:05\"");
        assertThat(json(TIME, "03:04:05.5")).isEqualTo("\"03:04:05.5\"");
        assertThat(json(TIME, "23:59:59.999999")).isEqualTo("\"23:59:59.999999\"");
        assertThat(json(TIME, "24:00:00")).isEqualTo("\"24:00:00\"");
    }

    @Test
    void timetzOffsetsAlwaysHaveMinutesAndKeepSeconds() {
        assertThat(json(TIMETZ, "03:04:05+05:45")).isEqualTo("\"03:04:05+05:45\"");
        assertThat(json(TIMETZ, "03:04:05-03:30")).isEqualTo("\"03:04:05-03:30\"");
        assertThat(json(TIMETZ, "03:04:05+03:30:50")).isEqualTo("\"03:04:05+03:30:50\"");
        assertThat(json(TIMETZ, "03:04:05.123456+00")).isEqualTo("\"03:04:05.123456+00:00\"");
        assertThat(json(TIMETZ, "00:00:00-15:59")).isEqualTo("\"00:00:00-15:59\"");
        assertThat(json(TIMETZ, "24:00:00+15:59")).isEqualTo("\"24:00:00+15:59\"");
        assertThat(json(TIMETZ, "12:00:00-08")).isEqualTo("\"12:00:00-08:00\"");
    }

    @Test
    void everyFractionLengthFromOneToSixIsKept() {
        String fraction = "";
        for (int digits = 1; digits <= 6; digits++) {
            fraction += digits;
            assertThat(json(TIME, "03:04:05." + fraction)).isEqualTo("\"03:04:05." + fraction + "\"");
            assertThat(json(TIMETZ, "03:04:05." + fraction + "-03:30")).isEqualTo("\"03:04:05." + fraction + "-03:30\"");
        }
    }

    @Test
    void otherFormsAreRefused() {
        for (String text : new String[] {"3:04:05", "03:04", "03:04:05 PM", "03:04:05.", "03:04:05.1234567", ""}) {
            assertThatThrownBy(() -> encode(TIME, text)).as(text).isInstanceOf(IllegalArgumentException.class);
        }
        for (String text : new String[] {"03:04:05", "03:04:05+5", "03:04:05+05:4", "03:04:05+05:45:1", "03:04:05 +05"}) {
            assertThatThrownBy(() -> encode(TIMETZ, text)).as(text).isInstanceOf(IllegalArgumentException.class);
        }
    }
}
