package io.sourcepostgres.values;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Chooses the {@link ValueEncoder} of a column by its type's {@link TypeFamily}, the same choice that
 * picks the column's JSON Schema. Encoders read PostgreSQL's text output under the canonical session
 * settings ({@code postgres.SessionSettings}); they hold no state, so one encoder may serve any number
 * of columns and threads.
 */
public final class ValueEncoders {
    private ValueEncoders() {}

    /**
     * The encoder for values of {@code type} (domains looked through). {@code typmod} is the column's type
     * modifier ({@code atttypmod}, -1 for none); text output already reflects it (blank padding, numeric
     * scale), so no encoder needs it today.
     */
    public static ValueEncoder forType(PgType type, int typmod) {
        PgType t = type.withoutDomains();
        return switch (TypeFamily.of(t)) {
            case BOOLEAN -> BooleanEncoder.INSTANCE;
            case INTEGER -> IntegerEncoder.INSTANCE;
            case FLOAT, NUMERIC -> NumberEncoder.INSTANCE;
            case MONEY -> MoneyEncoder.INSTANCE;
            case TEXT -> isInternalChar(t) ? InternalCharEncoder.INSTANCE : StringEncoder.INSTANCE;
            case BYTEA -> ByteaEncoder.INSTANCE;
            case JSON -> JsonEncoder.INSTANCE;
            case DATE -> DateEncoder.INSTANCE;
            case TIMESTAMP -> TimestampEncoder.WITHOUT_TIME_ZONE;
            case TIMESTAMPTZ -> TimestampEncoder.UTC;
            case TIME -> TimeEncoder.INSTANCE;
            case TIMETZ -> TimetzEncoder.INSTANCE;
            case INTERVAL -> IntervalEncoder.INSTANCE;
            case HSTORE -> HstoreEncoder.INSTANCE;
            case ARRAY -> new ArrayEncoder(forType(t.element(), typmod), arrayDelimiter(t.element()));
            case UUID, ENUM, STRING -> StringEncoder.INSTANCE;
        };
    }

    /**
     * Writes a value given as a {@code String} (tests, cold paths); the hot path hands over bytes.
     * Returns what {@link ValueEncoder#write} returns.
     */
    public static boolean write(ValueEncoder encoder, JsonGenerator out, String text) throws IOException {
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        return encoder.write(out, utf8, 0, utf8.length);
    }

    /**
     * The {@code typdelim} PostgreSQL separates array elements with: {@code ;} for {@code box} (whose
     * printed form holds commas), {@code ,} for every other built-in type. A domain uses its base's.
     */
    static char arrayDelimiter(PgType element) {
        PgType t = element.withoutDomains();
        return "pg_catalog".equals(t.namespace()) && "box".equals(t.name()) ? ';' : ',';
    }

    private static boolean isInternalChar(PgType t) {
        return "pg_catalog".equals(t.namespace()) && "char".equals(t.name());
    }
}
