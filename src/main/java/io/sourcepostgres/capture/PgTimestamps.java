package io.sourcepostgres.capture;

import java.time.Instant;
import java.time.format.DateTimeFormatter;

/** PostgreSQL's wire timestamps (microseconds since 2000-01-01 UTC) as RFC 3339 UTC text. */
public final class PgTimestamps {
    /** 2000-01-01T00:00:00Z in microseconds since the Unix epoch. */
    private static final long PG_EPOCH_MICROS = 946_684_800_000_000L;

    private PgTimestamps() {}

    public static Instant toInstant(long pgMicros) {
        long unixMicros = pgMicros + PG_EPOCH_MICROS;
        return Instant.ofEpochSecond(Math.floorDiv(unixMicros, 1_000_000L), Math.floorMod(unixMicros, 1_000_000L) * 1000L);
    }

    /** e.g. {@code 2024-05-01T12:00:00.123456Z}; fractional digits only as many as needed. */
    public static String toRfc3339(long pgMicros) {
        return DateTimeFormatter.ISO_INSTANT.format(toInstant(pgMicros));
    }
}
