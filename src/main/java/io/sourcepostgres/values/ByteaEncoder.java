package io.sourcepostgres.values;

import com.fasterxml.jackson.core.Base64Variants;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;

/** {@code bytea}: the hex output {@code \x0a0b...} becomes standard base64 with padding. */
final class ByteaEncoder implements ValueEncoder {
    static final ByteaEncoder INSTANCE = new ByteaEncoder();

    private ByteaEncoder() {}

    @Override
    public boolean write(JsonGenerator out, byte[] utf8, int offset, int length) throws IOException {
        if (length < 2 || utf8[offset] != '\\' || utf8[offset + 1] != 'x' || (length & 1) != 0) {
            throw PgText.malformed("bytea", "hex (\\x...)");
        }
        byte[] bytes = new byte[(length - 2) / 2];
        for (int i = 0, at = offset + 2; i < bytes.length; i++, at += 2) {
            int hi = Character.digit(utf8[at], 16);
            int lo = Character.digit(utf8[at + 1], 16);
            if (hi < 0 || lo < 0) {
                throw PgText.malformed("bytea", "hex (\\x...)");
            }
            bytes[i] = (byte) (hi << 4 | lo);
        }
        // MIME_NO_LINEFEEDS is RFC 4648 base64: standard alphabet, padding, no line breaks.
        out.writeBinary(Base64Variants.MIME_NO_LINEFEEDS, bytes, 0, bytes.length);
        return true;
    }
}
