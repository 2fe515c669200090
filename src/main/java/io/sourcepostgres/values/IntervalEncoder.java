package io.sourcepostgres.values;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;

/**
 * {@code interval}: under {@code IntervalStyle = iso_8601} PostgreSQL prints an ISO 8601 duration
 * ({@code P1Y2M3DT4H5M6.000007S}, {@code PT0S}, {@code P-1Y-2M}, {@code P-1DT2H3M}), which is the value.
 *
 * <p>PostgreSQL 17's infinite intervals have no ISO 8601 form and no largest duration stands in for them
 * the way 9999-12-31 does for dates: like NaN and Infinity of the number types they become null and the
 * caller records the change.
 */
final class IntervalEncoder implements ValueEncoder {
    static final IntervalEncoder INSTANCE = new IntervalEncoder();

    private IntervalEncoder() {}

    @Override
    public boolean write(JsonGenerator out, byte[] utf8, int offset, int length) throws IOException {
        if (isIsoDuration(utf8, offset, length)) {
            Utf8Json.string(out, utf8, offset, length);
            return true;
        }
        if (PgText.is(utf8, offset, length, "infinity") || PgText.is(utf8, offset, length, "-infinity")) {
            out.writeNull();
            return false;
        }
        throw PgText.malformed("interval", "an ISO 8601 duration (IntervalStyle iso_8601)");
    }

    private static boolean isIsoDuration(byte[] b, int offset, int length) {
        if (length < 3 || b[offset] != 'P') {
            return false;
        }
        for (int i = offset + 1; i < offset + length; i++) {
            byte c = b[i];
            if (!PgText.isDigit(c) && c != '-' && c != '.' && c != 'Y' && c != 'M' && c != 'W' && c != 'D'
                    && c != 'T' && c != 'H' && c != 'S') {
                return false;
            }
        }
        return true;
    }
}
