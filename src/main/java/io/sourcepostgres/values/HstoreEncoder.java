package io.sourcepostgres.values;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;

/**
 * {@code hstore}: PostgreSQL prints {@code "a"=>"1", "b"=>NULL}, every key and value double-quoted with
 * {@code "} and {@code \} backslash-escaped; the JSON value is the object {@code {"a":"1","b":null}}, in
 * the printed order. A quoted {@code "NULL"} is the string NULL; only the bare word is a null.
 */
final class HstoreEncoder implements ValueEncoder {
    static final HstoreEncoder INSTANCE = new HstoreEncoder();

    private HstoreEncoder() {}

    @Override
    public boolean write(JsonGenerator out, byte[] utf8, int offset, int length) throws IOException {
        int end = offset + length;
        byte[] scratch = null;
        out.writeStartObject();
        int i = offset;
        while (i < end) {
            if (i > offset) {
                if (end - i < 2 || utf8[i] != ',' || utf8[i + 1] != ' ') {
                    throw malformed();
                }
                i += 2;
            }
            int keyEnd = closingQuote(utf8, i, end);
            if (scratch == null) {
                scratch = new byte[length];
            }
            int keyLength = PgText.unescape(utf8, i + 1, keyEnd, scratch);
            Utf8Json.fieldName(out, scratch, 0, keyLength);
            i = keyEnd + 1;
            if (end - i < 2 || utf8[i] != '=' || utf8[i + 1] != '>') {
                throw malformed();
            }
            i += 2;
            if (end - i >= 4 && PgText.is(utf8, i, 4, "NULL")) {
                out.writeNull();
                i += 4;
            } else {
                int valueEnd = closingQuote(utf8, i, end);
                int valueLength = PgText.unescape(utf8, i + 1, valueEnd, scratch);
                Utf8Json.string(out, scratch, 0, valueLength);
                i = valueEnd + 1;
            }
        }
        out.writeEndObject();
        return true;
    }

    /** The index of the quote that closes the quoted text opening at {@code from}. */
    private static int closingQuote(byte[] b, int from, int to) {
        if (from >= to || b[from] != '"') {
            throw malformed();
        }
        for (int i = from + 1; i < to; i++) {
            if (b[i] == '\\') {
                i++;
            } else if (b[i] == '"') {
                return i;
            }
        }
        throw malformed();
    }

    private static IllegalArgumentException malformed() {
        return PgText.malformed("hstore", "\"key\"=>\"value\" pairs separated by \", \"");
    }
}
