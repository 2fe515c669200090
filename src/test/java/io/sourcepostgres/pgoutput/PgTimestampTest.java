package io.sourcepostgres.pgoutput;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class PgTimestampTest {
    @Test
    void countsMicrosecondsFromTheStartOf2000Utc() {
        assertThat(PgTimestamp.toInstant(0)).isEqualTo(Instant.parse("2000-01-01T00:00:00Z"));
        assertThat(PgTimestamp.toInstant(-1)).isEqualTo(Instant.parse("1999-12-31T23:59:59.999999Z"));
        assertThat(PgTimestamp.toInstant(762_525_296_789_012L)).isEqualTo(Instant.parse("2024-02-29T12:34:56.789012Z"));
    }

    @Test
    void writesRfc3339InUtcWithMicrosecondsAndNoTrailingZeros() {
        assertThat(PgTimestamp.toRfc3339Utc(0)).isEqualTo("2000-01-01T00:00:00Z");
        assertThat(PgTimestamp.toRfc3339Utc(-1)).isEqualTo("1999-12-31T23:59:59.999999Z");
        assertThat(PgTimestamp.toRfc3339Utc(-1_876_544)).isEqualTo("1999-12-31T23:59:58.123456Z");
        assertThat(PgTimestamp.toRfc3339Utc(1_500_000)).isEqualTo("2000-01-01T00:00:01.5Z");
        assertThat(PgTimestamp.toRfc3339Utc(1_000_010)).isEqualTo("2000-01-01T00:00:01.00001Z");
        assertThat(PgTimestamp.toRfc3339Utc(762_525_296_789_012L)).isEqualTo("2024-02-29T12:34:56.789012Z");
        // before year 1000 and after 9999 (PostgreSQL allows up to 294276 AD)
        assertThat(PgTimestamp.toRfc3339Utc(micros("0999-03-04T05:06:07Z"))).isEqualTo("0999-03-04T05:06:07Z");
        assertThat(PgTimestamp.toRfc3339Utc(micros("+10000-01-01T00:00:00Z"))).isEqualTo("10000-01-01T00:00:00Z");
    }

    @Test
    void agreesWithJavaTimeEverywhere() {
        SplittableRandom random = new SplittableRandom(7);
        long from = micros("1900-01-01T00:00:00Z");
        long to = micros("2200-01-01T00:00:00Z");
        for (int i = 0; i < 20_000; i++) {
            long pgMicros = random.nextLong(from, to);
            if (i % 3 == 0) {
                pgMicros -= Math.floorMod(pgMicros, 1000); // exercise shorter fractions too
            }
            Instant instant = PgTimestamp.toInstant(pgMicros);
            assertThat(PgTimestamp.toRfc3339Utc(pgMicros)).isEqualTo(withoutTrailingZeros(instant.toString()));
            assertThat(Instant.parse(PgTimestamp.toRfc3339Utc(pgMicros))).isEqualTo(instant);
        }
    }

    private static long micros(String instant) {
        Instant i = Instant.parse(instant);
        return (i.getEpochSecond() - PgTimestamp.PG_EPOCH_UNIX_SECONDS) * 1_000_000L + i.getNano() / 1000;
    }

    /** Instant.toString() prints fractions in groups of three digits; PostgreSQL drops every trailing zero. */
    private static String withoutTrailingZeros(String text) {
        if (!text.contains(".")) {
            return text;
        }
        String fraction = text.substring(text.indexOf('.') + 1, text.length() - 1).replaceAll("0+$", "");
        return text.substring(0, text.indexOf('.')) + (fraction.isEmpty() ? "" : "." + fraction) + "Z";
    }
}
