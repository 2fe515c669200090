package io.sourcepostgres.values;

/** PLACEHOLDER until the value-encoder branch lands: every value as its text. */
public final class ValueEncoders {
    private ValueEncoders() {}

    public static ValueEncoder forType(PgType type, int typmod) {
        return (out, utf8, offset, length) -> {
            out.writeUTF8String(utf8, offset, length);
            return true;
        };
    }
}
