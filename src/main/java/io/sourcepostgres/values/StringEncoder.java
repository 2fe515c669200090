package io.sourcepostgres.values;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;

/**
 * PostgreSQL's text output as a JSON string, unchanged: the text types ({@code char(n)} keeps its blank
 * padding), {@code uuid} (printed lower-case canonical), enum labels, and every type without a family of
 * its own (inet, bit, xml, tsvector, ranges, composites, geometric types, extension types, ...).
 */
final class StringEncoder implements ValueEncoder {
    static final StringEncoder INSTANCE = new StringEncoder();

    private StringEncoder() {}

    @Override
    public boolean write(JsonGenerator out, byte[] utf8, int offset, int length) throws IOException {
        Utf8Json.string(out, utf8, offset, length);
        return true;
    }
}
