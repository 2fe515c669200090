package io.sourcepostgres.values;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;

/** {@code time}: PostgreSQL prints {@code HH:MM:SS[.ffffff]} (up to {@code 24:00:00}), which is the value. */
final class TimeEncoder implements ValueEncoder {
    static final TimeEncoder INSTANCE = new TimeEncoder();

    private TimeEncoder() {}

    @Override
    public boolean write(JsonGenerator out, byte[] utf8, int offset, int length) throws IOException {
        if (PgText.timeOfDayEnd(utf8, offset, offset + length) != offset + length) {
            throw PgText.malformed("time", "HH:MM:SS[.ffffff]");
        }
        Utf8Json.string(out, utf8, offset, length);
        return true;
    }
}
