package io.sourcepostgres.values;

import static io.sourcepostgres.values.Encoding.DATE;
import static io.sourcepostgres.values.Encoding.TIMESTAMP;
import static io.sourcepostgres.values.Encoding.TIMESTAMPTZ;
import static io.sourcepostgres.values.Encoding.encode;
import static io.sourcepostgres.values.Encoding.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** date, timestamp and timestamptz, from PostgreSQL 17 output under DateStyle ISO and TimeZone UTC. */
class DateTimeEncoderTest {
    @Test
    void datesAreIsoWithBcAndLongYearsKept() {
        assertThat(json(DATE, "2024-02-29")).isEqualTo("\"2024-02-29\"");
        assertThat(json(DATE, "0044-03-15 BC")).isEqualTo("\"0044-03-15 BC\"");
        assertThat(json(DATE, "4714-11-24 BC")).isEqualTo("\"4714-11-24 BC\"");
        assertThat(json(DATE, "10000-01-01")).isEqualTo("\"10000-01-01\"");
        assertThat(json(DATE, "5874897-12-31")).isEqualTo("\"5874897-12-31\"");
    }

    @Test
    void infinitiesBecomeTheEndsOfTheFourDigitYearRangeConsistentlyForAllThreeTypes() {
        assertThat(json(DATE, "infinity")).isEqualTo("\"9999-12-31\"");
        assertThat(json(DATE, "-infinity")).isEqualTo("\"0001-01-01\"");
        assertThat(json(TIMESTAMP, "infinity")).isEqualTo("\"9999-12-31T23:59:59.999999\"");
        assertThat(json(TIMESTAMP, "-infinity")).isEqualTo("\"0001-01-01T00:00:00\"");
        assertThat(json(TIMESTAMPTZ, "infinity")).isEqualTo("\"9999-12-31T23:59:59.999999Z\"");
        assertThat(json(TIMESTAMPTZ, "-infinity")).isEqualTo("\"0001-01-01T00:00:00Z\"");
    }

    @Test
    void timestampsGetATBetweenDateAndTimeAndNoZone() {
        assertThat(json(TIMESTAMP, "2024-01-02 03:04:05")).isEqualTo("\"2024-01-02T03:04:05\"");
        assertThat(json(TIMESTAMP, "2024-02-29 01:02:03.1")).isEqualTo("\"2024-02-29T01:02:03.1\"");
        assertThat(json(TIMESTAMP, "294276-12-31 23:59:59.999999")).isEqualTo("\"294276-12-31T23:59:59.999999\"");
        assertThat(json(TIMESTAMP, "4714-11-24 00:00:00 BC")).isEqualTo("\"4714-11-24T00:00:00 BC\"");
        assertThat(json(TIMESTAMP, "0001-01-01 00:00:00 BC")).isEqualTo("\"0001-01-01T00:00:00 BC\"");
    }

    @Test
    void everyFractionLengthFromOneToSixIsKept() {
        String fraction = "";
        for (int digits = 1; digits <= 6; digits++) {
            fraction += digits;
            assertThat(json(TIMESTAMP, "2024-01-02 03:04:05." + fraction)).isEqualTo("\"2024-01-02T03:04:05." + fraction + "\"");
            assertThat(json(TIMESTAMPTZ, "2024-01-02 03:04:05." + fraction + "+00"))
                    .isEqualTo("\"2024-01-02T03:04:05." + fraction + "Z\"");
        }
    }

    @Test
    void timestamptzInUtcGetsZWithBcAfterIt() {
        assertThat(json(TIMESTAMPTZ, "2024-01-01 21:19:05.123456+00")).isEqualTo("\"2024-01-01T21:19:05.123456Z\"");
        assertThat(json(TIMESTAMPTZ, "0044-03-15 12:00:00+00 BC")).isEqualTo("\"0044-03-15T12:00:00Z BC\"");
        assertThat(json(TIMESTAMPTZ, "1800-01-01 00:00:00+00")).isEqualTo("\"1800-01-01T00:00:00Z\"");
        assertThat(json(TIMESTAMPTZ, "294276-12-31 23:59:59.999999+00")).isEqualTo("\"294276-12-31T23:59:59.999999Z\"");
        assertThat(json(TIMESTAMPTZ, "2024-02-29 00:00:00+00")).isEqualTo("\"2024-02-29T00:00:00Z\"");
    }

    @Test
    void timestamptzOutsideUtcIsRefusedNotPassedOn() {
        for (String text : new String[] {"2024-01-02 03:04:05+05:45", "2024-01-02 03:04:05-08", "2024-01-02 03:04:05+00:30",
                "2024-01-02 03:04:05"}) {
            assertThatThrownBy(() -> encode(TIMESTAMPTZ, text)).as(text).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("timestamptz");
        }
    }

    @Test
    void otherDateStylesAreRefused() {
        for (String text : new String[] {"02/01/2024", "01-02-2024", "Tue Jan 02 03:04:05 2024", "2024-1-2", "", "infinityx"}) {
            assertThatThrownBy(() -> encode(DATE, text)).as(text).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> encode(TIMESTAMP, text)).as(text).isInstanceOf(IllegalArgumentException.class);
        }
        assertThatThrownBy(() -> encode(TIMESTAMP, "2024-01-02T03:04:05")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> encode(TIMESTAMP, "2024-01-02 03:04:05.1234567")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> encode(DATE, "2024-01-02 AD")).isInstanceOf(IllegalArgumentException.class);
    }
}
