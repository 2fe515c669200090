package io.sourcepostgres.values;

import static io.sourcepostgres.values.Encoding.INTERVAL;
import static io.sourcepostgres.values.Encoding.encode;
import static io.sourcepostgres.values.Encoding.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sourcepostgres.values.Encoding.Encoded;
import org.junit.jupiter.api.Test;

/** interval, from PostgreSQL 17 output under IntervalStyle iso_8601. */
class IntervalEncoderTest {
    @Test
    void isoDurationsAreWrittenAsPrinted() {
        for (String text : new String[] {"P1Y2M3DT4H5M6.000007S", "PT0S", "P-1Y-2M", "P-1DT2H3M", "PT1.5S", "PT-0.5S",
                "P178000000Y", "P-178000000Y", "P1MT-1S"}) {
            assertThat(json(INTERVAL, text)).isEqualTo("\"" + text + "\"");
        }
    }

    @Test
    void infiniteIntervalsOfPostgres17BecomeNullAndAreReported() {
        assertThat(encode(INTERVAL, "infinity")).isEqualTo(new Encoded("null", false));
        assertThat(encode(INTERVAL, "-infinity")).isEqualTo(new Encoded("null", false));
    }

    @Test
    void otherIntervalStylesAreRefused() {
        for (String text : new String[] {"1 year 2 mons", "@ 1 year 2 mons", "1-2", "", "P", "P1Y 2M"}) {
            assertThatThrownBy(() -> encode(INTERVAL, text)).as(text).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("interval");
        }
    }
}
