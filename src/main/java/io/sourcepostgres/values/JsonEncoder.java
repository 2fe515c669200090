package io.sourcepostgres.values;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;

/**
 * {@code json} and {@code jsonb}: the value is embedded as JSON, not as a string holding JSON. PostgreSQL
 * has validated it on input, so it is copied rather than parsed: numbers keep their exact digits, a
 * {@code json} value keeps its key order and duplicate keys, and escapes such as a lone {@code \ud800}
 * stay escapes (ASCII), so the output stays valid UTF-8.
 *
 * <p>Whitespace between tokens is dropped: a {@code json} value keeps whatever layout it was typed with,
 * line breaks included, and a line break would split the one-message-per-line output. Whitespace is not
 * part of the JSON value, and jsonb prints none that matters.
 */
final class JsonEncoder implements ValueEncoder {
    static final JsonEncoder INSTANCE = new JsonEncoder();

    private JsonEncoder() {}

    @Override
    public boolean write(JsonGenerator out, byte[] utf8, int offset, int length) throws IOException {
        if (length == 0) {
            throw PgText.malformed("json", "a JSON value");
        }
        int end = offset + length;
        int firstSpace = firstWhitespaceOutsideStrings(utf8, offset, end);
        if (firstSpace < 0) {
            Utf8Json.rawValue(out, utf8, offset, length);
        } else {
            byte[] compact = Utf8Json.scratch(length);
            int n = firstSpace - offset;
            System.arraycopy(utf8, offset, compact, 0, n);
            boolean inString = false;
            for (int i = firstSpace; i < end; i++) {
                byte c = utf8[i];
                if (inString) {
                    compact[n++] = c;
                    if (c == '\\') {
                        compact[n++] = utf8[++i];
                    } else if (c == '"') {
                        inString = false;
                    }
                } else if (!isJsonWhitespace(c)) {
                    compact[n++] = c;
                    inString = c == '"';
                }
            }
            if (n == 0) {
                throw PgText.malformed("json", "a JSON value");
            }
            Utf8Json.rawValue(out, compact, 0, n);
        }
        return true;
    }

    private static int firstWhitespaceOutsideStrings(byte[] b, int from, int to) {
        boolean inString = false;
        for (int i = from; i < to; i++) {
            byte c = b[i];
            if (inString) {
                if (c == '\\') {
                    i++;
                } else if (c == '"') {
                    inString = false;
                }
            } else if (c == '"') {
                inString = true;
            } else if (isJsonWhitespace(c)) {
                return i;
            }
        }
        return -1;
    }

    private static boolean isJsonWhitespace(byte c) {
        return c == ' ' || c == '\n' || c == '\r' || c == '\t';
    }
}
