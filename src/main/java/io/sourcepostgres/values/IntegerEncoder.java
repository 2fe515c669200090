package io.sourcepostgres.values;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;

/**
 * {@code int2}, {@code int4}, {@code int8}, {@code oid}: the printed digits are already a JSON integer, so
 * they are written as they are (checked, never parsed), which carries the full int64 range.
 */
final class IntegerEncoder implements ValueEncoder {
    static final IntegerEncoder INSTANCE = new IntegerEncoder();

    private IntegerEncoder() {}

    @Override
    public boolean write(JsonGenerator out, byte[] utf8, int offset, int length) throws IOException {
        if (!PgText.isJsonNumber(utf8, offset, length, true)) {
            throw PgText.malformed("integer", "a decimal integer");
        }
        Utf8Json.rawValue(out, utf8, offset, length);
        return true;
    }
}
