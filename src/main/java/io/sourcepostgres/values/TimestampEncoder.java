package io.sourcepostgres.values;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;

/**
 * {@code timestamp} and {@code timestamptz}. Under {@code DateStyle = ISO} and {@code TimeZone = UTC}
 * PostgreSQL prints {@code 2024-01-02 03:04:05.123456} and {@code 2024-01-02 03:04:05.123456+00}; the JSON
 * value puts a {@code T} between date and time and writes the UTC offset as {@code Z}
 * ({@code 2024-01-02T03:04:05.123456Z}). A {@code BC} suffix stays at the end ({@code 0044-03-15T12:00:00 BC},
 * which PostgreSQL reads back), years past 9999 keep all their digits, and infinities become the ends of
 * the range (see {@link InfinityDates}).
 */
final class TimestampEncoder implements ValueEncoder {
    static final TimestampEncoder WITHOUT_TIME_ZONE = new TimestampEncoder(false);
    static final TimestampEncoder UTC = new TimestampEncoder(true);

    private final boolean utc;

    private TimestampEncoder(boolean utc) {
        this.utc = utc;
    }

    @Override
    public boolean write(JsonGenerator out, byte[] utf8, int offset, int length) throws IOException {
        if (PgText.is(utf8, offset, length, "infinity")) {
            out.writeString(utc ? InfinityDates.TIMESTAMPTZ_MAX : InfinityDates.TIMESTAMP_MAX);
            return true;
        }
        if (PgText.is(utf8, offset, length, "-infinity")) {
            out.writeString(utc ? InfinityDates.TIMESTAMPTZ_MIN : InfinityDates.TIMESTAMP_MIN);
            return true;
        }
        int end = offset + length;
        int dateEnd = PgText.dateEnd(utf8, offset, end);
        if (dateEnd < 0 || dateEnd == end || utf8[dateEnd] != ' ') {
            throw malformed();
        }
        int timeEnd = PgText.timeOfDayEnd(utf8, dateEnd + 1, end);
        if (timeEnd < 0) {
            throw malformed();
        }
        int suffix = timeEnd;
        if (utc) {
            if (end - suffix < 3 || utf8[suffix] != '+' || utf8[suffix + 1] != '0' || utf8[suffix + 2] != '0'
                    || (end - suffix > 3 && utf8[suffix + 3] != ' ')) {
                throw PgText.malformed("timestamptz", "in UTC (+00); the session's TimeZone must be UTC");
            }
            suffix += 3;
        }
        boolean bc = PgText.isBcSuffix(utf8, suffix, end);
        if (suffix != end && !bc) {
            throw malformed();
        }
        // Only digits, '-', ':', '.', 'T', 'Z', ' ' and 'BC' end up in the string: no escaping to check.
        byte[] text = Utf8Json.scratch(timeEnd - offset + 4);
        int n = timeEnd - offset;
        System.arraycopy(utf8, offset, text, 0, n);
        text[dateEnd - offset] = 'T';
        if (utc) {
            text[n++] = 'Z';
        }
        if (bc) {
            text[n++] = ' ';
            text[n++] = 'B';
            text[n++] = 'C';
        }
        Utf8Json.plainString(out, text, 0, n);
        return true;
    }

    private IllegalArgumentException malformed() {
        return PgText.malformed(utc ? "timestamptz" : "timestamp",
                "ISO YYYY-MM-DD HH:MM:SS[.ffffff]" + (utc ? "+00" : "") + "[ BC]");
    }
}
