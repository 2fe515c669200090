package io.sourcepostgres.values;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.SerializableString;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import com.fasterxml.jackson.core.io.SerializedString;
import com.fasterxml.jackson.core.json.UTF8JsonGenerator;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Writes slices of UTF-8 bytes into a {@link JsonGenerator} without decoding them to a {@code String} when
 * the generator writes bytes (the connector's stdout generator does). Generators that write characters
 * (a {@code StringWriter} in a test) get the decoded text instead, so encoders work with either.
 */
final class Utf8Json {
    private Utf8Json() {}

    /** Writes the bytes as a JSON string, escaping what JSON requires. */
    static void string(JsonGenerator out, byte[] utf8, int offset, int length) throws IOException {
        if (out instanceof UTF8JsonGenerator) {
            out.writeUTF8String(utf8, offset, length);
        } else {
            out.writeString(new String(utf8, offset, length, StandardCharsets.UTF_8));
        }
    }

    /**
     * Writes the bytes as a JSON string that needs no escaping (the caller made them: digits, letters,
     * punctuation of ASCII), copied as they are instead of checked byte by byte.
     */
    static void plainString(JsonGenerator out, byte[] ascii, int offset, int length) throws IOException {
        if (out instanceof UTF8JsonGenerator) {
            out.writeRawUTF8String(ascii, offset, length);
        } else {
            out.writeString(new String(ascii, offset, length, StandardCharsets.US_ASCII));
        }
    }

    /** A scratch buffer of at least {@code length} bytes for the calling thread, reused by its next call. */
    static byte[] scratch(int length) {
        byte[] b = SCRATCH.get();
        if (b.length < length) {
            if (length > MAX_KEPT_SCRATCH) {
                return new byte[length];
            }
            b = new byte[Math.max(length, b.length * 2)];
            SCRATCH.set(b);
        }
        return b;
    }

    private static final int MAX_KEPT_SCRATCH = 1 << 16;
    private static final ThreadLocal<byte[]> SCRATCH = ThreadLocal.withInitial(() -> new byte[256]);

    /**
     * Writes the bytes as an object's field name. {@code writeFieldName(String)} would escape a character
     * outside the Basic Multilingual Plane as a {@code \uD83D\uDE00} pair while {@link #string} writes it as
     * UTF-8; going through a pre-quoted name makes names and strings alike.
     */
    static void fieldName(JsonGenerator out, byte[] utf8, int offset, int length) throws IOException {
        out.writeFieldName(new SerializedString(new String(utf8, offset, length, StandardCharsets.UTF_8)));
    }

    /** Writes the bytes verbatim as one JSON value; the caller has checked that they are valid JSON. */
    static void rawValue(JsonGenerator out, byte[] utf8, int offset, int length) throws IOException {
        out.writeRawValue(new Slice(utf8, offset, length));
    }

    /**
     * A byte slice seen as Jackson's pre-encoded string, which is how a raw value reaches a byte generator's
     * buffer with a single copy. The quoted forms exist only to honour the interface.
     */
    private static final class Slice implements SerializableString {
        private final byte[] bytes;
        private final int offset;
        private final int length;
        private String decoded;

        Slice(byte[] bytes, int offset, int length) {
            this.bytes = bytes;
            this.offset = offset;
            this.length = length;
        }

        @Override
        public String getValue() {
            if (decoded == null) {
                decoded = new String(bytes, offset, length, StandardCharsets.UTF_8);
            }
            return decoded;
        }

        @Override
        public int charLength() {
            return getValue().length();
        }

        @Override
        public char[] asQuotedChars() {
            return JsonStringEncoder.getInstance().quoteAsString(getValue());
        }

        @Override
        public byte[] asUnquotedUTF8() {
            return Arrays.copyOfRange(bytes, offset, offset + length);
        }

        @Override
        public byte[] asQuotedUTF8() {
            return JsonStringEncoder.getInstance().quoteAsUTF8(getValue());
        }

        @Override
        public int appendQuotedUTF8(byte[] buffer, int at) {
            return copy(asQuotedUTF8(), buffer, at);
        }

        @Override
        public int appendQuoted(char[] buffer, int at) {
            char[] quoted = asQuotedChars();
            if (at + quoted.length > buffer.length) {
                return -1;
            }
            System.arraycopy(quoted, 0, buffer, at, quoted.length);
            return quoted.length;
        }

        @Override
        public int appendUnquotedUTF8(byte[] buffer, int at) {
            if (at + length > buffer.length) {
                return -1;
            }
            System.arraycopy(bytes, offset, buffer, at, length);
            return length;
        }

        @Override
        public int appendUnquoted(char[] buffer, int at) {
            String value = getValue();
            if (at + value.length() > buffer.length) {
                return -1;
            }
            value.getChars(0, value.length(), buffer, at);
            return value.length();
        }

        @Override
        public int writeQuotedUTF8(OutputStream stream) throws IOException {
            byte[] quoted = asQuotedUTF8();
            stream.write(quoted);
            return quoted.length;
        }

        @Override
        public int writeUnquotedUTF8(OutputStream stream) throws IOException {
            stream.write(bytes, offset, length);
            return length;
        }

        @Override
        public int putQuotedUTF8(ByteBuffer buffer) {
            byte[] quoted = asQuotedUTF8();
            if (quoted.length > buffer.remaining()) {
                return -1;
            }
            buffer.put(quoted);
            return quoted.length;
        }

        @Override
        public int putUnquotedUTF8(ByteBuffer buffer) {
            if (length > buffer.remaining()) {
                return -1;
            }
            buffer.put(bytes, offset, length);
            return length;
        }

        @Override
        public String toString() {
            return getValue();
        }

        private static int copy(byte[] source, byte[] buffer, int at) {
            if (at + source.length > buffer.length) {
                return -1;
            }
            System.arraycopy(source, 0, buffer, at, source.length);
            return source.length;
        }
    }
}
