package io.sourcepostgres.values;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;

/**
 * {@code timetz}: PostgreSQL prints the stored offset as briefly as it can ({@code +00}, {@code +05:45},
 * {@code +03:30:50}); the JSON value always writes hours and minutes and keeps seconds when there are
 * any: {@code 03:04:05+00:00}, {@code 03:04:05+05:45}, {@code 03:04:05+03:30:50}.
 */
final class TimetzEncoder implements ValueEncoder {
    static final TimetzEncoder INSTANCE = new TimetzEncoder();

    private TimetzEncoder() {}

    @Override
    public boolean write(JsonGenerator out, byte[] utf8, int offset, int length) throws IOException {
        int end = offset + length;
        int timeEnd = PgText.timeOfDayEnd(utf8, offset, end);
        if (timeEnd < 0 || timeEnd == end || (utf8[timeEnd] != '+' && utf8[timeEnd] != '-')) {
            throw malformed();
        }
        int zone = timeEnd + 1;
        int zoneLength = end - zone;
        // HH, HH:MM or HH:MM:SS
        if (!(zoneLength == 2 || zoneLength == 5 || zoneLength == 8) || !PgText.digits(utf8, zone, zone + 2, 2, 2)
                || (zoneLength >= 5 && (utf8[zone + 2] != ':' || !PgText.digits(utf8, zone + 3, zone + 5, 2, 2)))
                || (zoneLength == 8 && (utf8[zone + 5] != ':' || !PgText.digits(utf8, zone + 6, zone + 8, 2, 2)))) {
            throw malformed();
        }
        char[] text = new char[length + 3];
        int n = 0;
        for (int i = offset; i < end; i++) {
            text[n++] = (char) utf8[i];
        }
        if (zoneLength == 2) {
            text[n++] = ':';
            text[n++] = '0';
            text[n++] = '0';
        }
        out.writeString(text, 0, n);
        return true;
    }

    private static IllegalArgumentException malformed() {
        return PgText.malformed("timetz", "HH:MM:SS[.ffffff]±HH[:MM[:SS]]");
    }
}
