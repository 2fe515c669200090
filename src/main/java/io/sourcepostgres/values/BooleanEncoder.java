package io.sourcepostgres.values;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;

/** {@code boolean}: PostgreSQL prints {@code t} or {@code f}. */
final class BooleanEncoder implements ValueEncoder {
    static final BooleanEncoder INSTANCE = new BooleanEncoder();

    private BooleanEncoder() {}

    @Override
    public boolean write(JsonGenerator out, byte[] utf8, int offset, int length) throws IOException {
        if (length == 1 && utf8[offset] == 't') {
            out.writeBoolean(true);
        } else if (length == 1 && utf8[offset] == 'f') {
            out.writeBoolean(false);
        } else {
            throw PgText.malformed("boolean", "t or f");
        }
        return true;
    }
}
