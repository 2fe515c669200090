package io.sourcepostgres.values;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;

/**
 * Arrays of any element type and any number of dimensions: PostgreSQL prints {@code {1,2,NULL}},
 * {@code {{1,2},{3,4}}}, {@code {"a b","c\"d",NULL,"NULL"}}; the JSON value is the nested arrays with every
 * element written by its own type's encoder (numbers as numbers, json embedded, bytea as base64, ...).
 * An unquoted {@code NULL} is a null element; a quoted one is the string NULL.
 *
 * <p>An array whose lower bounds are not 1 is printed with its bounds first ({@code [0:2]={1,2,3}}).
 * The bounds are dropped: the JSON array holds the elements in order, so such an array reads back with
 * the default lower bound 1.
 *
 * <p>Elements are separated by the element type's delimiter: {@code ,} except for {@code box}, whose
 * printed form contains commas and which uses {@code ;}.
 */
final class ArrayEncoder implements ValueEncoder {
    private final ValueEncoder element;
    private final byte delimiter;

    ArrayEncoder(ValueEncoder element, char delimiter) {
        this.element = element;
        this.delimiter = (byte) delimiter;
    }

    @Override
    public boolean write(JsonGenerator out, byte[] utf8, int offset, int length) throws IOException {
        int end = offset + length;
        int start = offset;
        if (start < end && utf8[start] == '[') {
            while (start < end && utf8[start] != '=') {
                start++;
            }
            start++;
        }
        Parse parse = new Parse(out, utf8, end);
        if (start >= end || utf8[start] != '{' || parse.array(start) != end) {
            throw malformed();
        }
        return parse.representable;
    }

    /** One pass over one array's text; holds the scratch buffer for elements that need unescaping. */
    private final class Parse {
        private final JsonGenerator out;
        private final byte[] b;
        private final int end;
        private byte[] scratch;
        private boolean representable = true;

        Parse(JsonGenerator out, byte[] b, int end) {
            this.out = out;
            this.b = b;
            this.end = end;
        }

        /** Writes the array opening at {@code open} (a '{') and returns the index after its '}'. */
        int array(int open) throws IOException {
            out.writeStartArray();
            int i = open + 1;
            if (i < end && b[i] == '}') {
                out.writeEndArray();
                return i + 1;
            }
            while (true) {
                if (i >= end) {
                    throw malformed();
                }
                byte c = b[i];
                if (c == '{') {
                    i = array(i);
                } else if (c == '"') {
                    i = quoted(i);
                } else {
                    i = unquoted(i);
                }
                if (i >= end) {
                    throw malformed();
                }
                if (b[i] == '}') {
                    out.writeEndArray();
                    return i + 1;
                }
                if (b[i] != delimiter) {
                    throw malformed();
                }
                i++;
            }
        }

        private int quoted(int open) throws IOException {
            boolean escaped = false;
            for (int i = open + 1; i < end; i++) {
                byte c = b[i];
                if (c == '\\') {
                    escaped = true;
                    i++;
                } else if (c == '"') {
                    if (escaped) {
                        if (scratch == null) {
                            scratch = new byte[end - open];
                        }
                        int n = PgText.unescape(b, open + 1, i, scratch);
                        element(scratch, 0, n);
                    } else {
                        element(b, open + 1, i - open - 1);
                    }
                    return i + 1;
                }
            }
            throw malformed();
        }

        private int unquoted(int from) throws IOException {
            int i = from;
            while (i < end && b[i] != delimiter && b[i] != '}') {
                i++;
            }
            if (i == from) {
                throw malformed();
            }
            if (PgText.is(b, from, i - from, "NULL")) {
                out.writeNull();
            } else {
                element(b, from, i - from);
            }
            return i;
        }

        private void element(byte[] bytes, int offset, int length) throws IOException {
            if (!element.write(out, bytes, offset, length)) {
                representable = false;
            }
        }
    }

    private static IllegalArgumentException malformed() {
        return PgText.malformed("array", "an array literal {...}");
    }
}
