package io.sourcepostgres.values;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;

/**
 * {@code float4}, {@code float8} and {@code numeric}: the printed text is written as the JSON number
 * literal, never through a binary float. That keeps numeric's exact digits ({@code 12.30}, 1000-digit
 * values) and, with {@code extra_float_digits = 3}, the floats' shortest round-tripping form
 * ({@code 1e+20}, {@code -0}, {@code 1.5e-07} are valid JSON as printed).
 *
 * <p>{@code NaN}, {@code Infinity} and {@code -Infinity} have no JSON form: they become null and the
 * caller records the change.
 */
final class NumberEncoder implements ValueEncoder {
    static final NumberEncoder INSTANCE = new NumberEncoder();

    private NumberEncoder() {}

    @Override
    public boolean write(JsonGenerator out, byte[] utf8, int offset, int length) throws IOException {
        if (PgText.isJsonNumber(utf8, offset, length, false)) {
            Utf8Json.rawValue(out, utf8, offset, length);
            return true;
        }
        if (PgText.is(utf8, offset, length, "NaN") || PgText.is(utf8, offset, length, "Infinity")
                || PgText.is(utf8, offset, length, "-Infinity")) {
            out.writeNull();
            return false;
        }
        throw PgText.malformed("floating-point or numeric", "a decimal number, NaN or Infinity");
    }
}
