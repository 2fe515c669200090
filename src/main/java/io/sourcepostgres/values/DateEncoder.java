package io.sourcepostgres.values;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;

/**
 * {@code date}: under {@code DateStyle = ISO} PostgreSQL prints {@code YYYY-MM-DD}, with a {@code BC}
 * suffix before year 1 and more year digits past 9999; that text is the value. Infinities become the ends
 * of the range (see {@link InfinityDates}).
 */
final class DateEncoder implements ValueEncoder {
    static final DateEncoder INSTANCE = new DateEncoder();

    private DateEncoder() {}

    @Override
    public boolean write(JsonGenerator out, byte[] utf8, int offset, int length) throws IOException {
        if (PgText.is(utf8, offset, length, "infinity")) {
            out.writeString(InfinityDates.DATE_MAX);
            return true;
        }
        if (PgText.is(utf8, offset, length, "-infinity")) {
            out.writeString(InfinityDates.DATE_MIN);
            return true;
        }
        int end = offset + length;
        int dateEnd = PgText.dateEnd(utf8, offset, end);
        if (dateEnd < 0 || (dateEnd != end && !PgText.isBcSuffix(utf8, dateEnd, end))) {
            throw PgText.malformed("date", "ISO YYYY-MM-DD[ BC]");
        }
        Utf8Json.string(out, utf8, offset, length);
        return true;
    }
}
