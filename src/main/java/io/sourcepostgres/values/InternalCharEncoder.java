package io.sourcepostgres.values;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;

/**
 * The one-byte type {@code "char"}. PostgreSQL 15 and later print a byte of 128 or more as a backslash and
 * three octal digits ({@code \303}); 12 to 14 print the raw byte, which is not UTF-8 on its own. Writing
 * the 15+ form for every version keeps the output valid UTF-8 and the same across versions.
 */
final class InternalCharEncoder implements ValueEncoder {
    static final InternalCharEncoder INSTANCE = new InternalCharEncoder();

    private InternalCharEncoder() {}

    @Override
    public boolean write(JsonGenerator out, byte[] utf8, int offset, int length) throws IOException {
        if (length == 1 && utf8[offset] < 0) {
            int b = utf8[offset] & 0xff;
            out.writeString(new char[] {'\\', (char) ('0' + (b >> 6)), (char) ('0' + ((b >> 3) & 7)), (char) ('0' + (b & 7))},
                    0, 4);
        } else {
            Utf8Json.string(out, utf8, offset, length);
        }
        return true;
    }
}
