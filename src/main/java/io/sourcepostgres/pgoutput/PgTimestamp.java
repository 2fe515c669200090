package io.sourcepostgres.pgoutput;

import java.time.Instant;
import java.time.LocalDate;

/**
 * PostgreSQL timestamps as pgoutput sends them (commit and abort times): microseconds since
 * 2000-01-01 00:00:00 UTC, the PostgreSQL epoch.
 */
public final class PgTimestamp {
    /** Seconds from the Unix epoch to the PostgreSQL epoch. */
    public static final long PG_EPOCH_UNIX_SECONDS = 946_684_800L;

    private static final long MICROS_PER_SECOND = 1_000_000L;
    private static final int SECONDS_PER_DAY = 86_400;

    private PgTimestamp() {}

    public static Instant toInstant(long pgMicros) {
        long seconds = Math.floorDiv(pgMicros, MICROS_PER_SECOND) + PG_EPOCH_UNIX_SECONDS;
        long micros = Math.floorMod(pgMicros, MICROS_PER_SECOND);
        return Instant.ofEpochSecond(seconds, micros * 1000);
    }

    /**
     * RFC 3339 in UTC, {@code YYYY-MM-DDTHH:MM:SS[.ffffff]Z}: microsecond precision with trailing zeros
     * dropped (no fraction at all on a whole second), the way PostgreSQL prints a {@code timestamptz}, so
     * that {@code _ab_cdc_updated_at} reads like the table's own timestamptz columns.
     */
    public static String toRfc3339Utc(long pgMicros) {
        long unixSeconds = Math.floorDiv(pgMicros, MICROS_PER_SECOND) + PG_EPOCH_UNIX_SECONDS;
        int micros = (int) Math.floorMod(pgMicros, MICROS_PER_SECOND);
        int secondOfDay = (int) Math.floorMod(unixSeconds, SECONDS_PER_DAY);
        LocalDate date = LocalDate.ofEpochDay(Math.floorDiv(unixSeconds, SECONDS_PER_DAY));

        StringBuilder out = new StringBuilder(27);
        int year = date.getYear();
        if (year < 0) {
            out.append('-');
            year = -year;
        }
        pad(out, year, 4);
        out.append('-');
        pad(out, date.getMonthValue(), 2);
        out.append('-');
        pad(out, date.getDayOfMonth(), 2);
        out.append('T');
        pad(out, secondOfDay / 3600, 2);
        out.append(':');
        pad(out, secondOfDay / 60 % 60, 2);
        out.append(':');
        pad(out, secondOfDay % 60, 2);
        if (micros != 0) {
            int digits = 6;
            while (micros % 10 == 0) {
                micros /= 10;
                digits--;
            }
            out.append('.');
            pad(out, micros, digits);
        }
        return out.append('Z').toString();
    }

    /** Writes {@code value} with at least {@code width} digits (years past 9999 keep all of theirs). */
    private static void pad(StringBuilder out, int value, int width) {
        for (int limit = 10, w = 1; w < width; w++, limit *= 10) {
            if (value < limit) {
                out.append('0');
            }
        }
        out.append(value);
    }
}
