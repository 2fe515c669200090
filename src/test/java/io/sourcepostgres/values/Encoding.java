package io.sourcepostgres.values;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadConstraints;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Runs an encoder the way the connector does (a byte generator, the value as a field among others, the
 * text as a slice in the middle of a larger buffer) and checks that the whole document is valid UTF-8
 * and strict JSON before handing back the value's JSON text.
 */
final class Encoding {
    static final PgType BOOL = PgType.builtin(16, "bool", 'B');
    static final PgType INT2 = PgType.builtin(21, "int2", 'N');
    static final PgType INT4 = PgType.builtin(23, "int4", 'N');
    static final PgType INT8 = PgType.builtin(20, "int8", 'N');
    static final PgType OID = PgType.builtin(26, "oid", 'N');
    static final PgType FLOAT4 = PgType.builtin(700, "float4", 'N');
    static final PgType FLOAT8 = PgType.builtin(701, "float8", 'N');
    static final PgType NUMERIC = PgType.builtin(1700, "numeric", 'N');
    static final PgType MONEY = PgType.builtin(790, "money", 'N');
    static final PgType TEXT = PgType.builtin(25, "text", 'S');
    static final PgType VARCHAR = PgType.builtin(1043, "varchar", 'S');
    static final PgType BPCHAR = PgType.builtin(1042, "bpchar", 'S');
    static final PgType NAME = PgType.builtin(19, "name", 'S');
    static final PgType CHAR = PgType.builtin(18, "char", 'Z');
    static final PgType BYTEA = PgType.builtin(17, "bytea", 'U');
    static final PgType UUID = PgType.builtin(2950, "uuid", 'U');
    static final PgType JSON = PgType.builtin(114, "json", 'U');
    static final PgType JSONB = PgType.builtin(3802, "jsonb", 'U');
    static final PgType DATE = PgType.builtin(1082, "date", 'D');
    static final PgType TIMESTAMP = PgType.builtin(1114, "timestamp", 'D');
    static final PgType TIMESTAMPTZ = PgType.builtin(1184, "timestamptz", 'D');
    static final PgType TIME = PgType.builtin(1083, "time", 'D');
    static final PgType TIMETZ = PgType.builtin(1266, "timetz", 'D');
    static final PgType INTERVAL = PgType.builtin(1186, "interval", 'T');
    static final PgType BOX = PgType.builtin(603, "box", 'G');
    static final PgType INET = PgType.builtin(869, "inet", 'I');
    static final PgType HSTORE = new PgType(16400, "public", "hstore", 'b', 'U', null, null, List.of());
    static final PgType CITEXT = new PgType(16500, "public", "citext", 'b', 'S', null, null, List.of());

    private static final JsonFactory FACTORY = new JsonFactory();
    private static final JsonFactory PERMISSIVE_LIMITS = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder()
                    .maxNestingDepth(Integer.MAX_VALUE)
                    .maxNumberLength(Integer.MAX_VALUE)
                    .build())
            .build();

    private Encoding() {}

    /** What an encoder wrote for one value, and whether the value was representable. */
    record Encoded(String json, boolean representable) {}

    static Encoded encode(PgType type, String text) {
        return encode(ValueEncoders.forType(type, -1), text.getBytes(StandardCharsets.UTF_8));
    }

    static Encoded encode(PgType type, byte[] text) {
        return encode(ValueEncoders.forType(type, -1), text);
    }

    /** The JSON text of a value that must be representable. */
    static String json(PgType type, String text) {
        Encoded e = encode(type, text);
        assertThat(e.representable()).as("representable: %s", text).isTrue();
        return e.json();
    }

    static Encoded encode(ValueEncoder encoder, byte[] text) {
        // The value sits in the middle of a larger buffer, as it does in a pgoutput message.
        byte[] buffer = new byte[text.length + 10];
        java.util.Arrays.fill(buffer, (byte) '~');
        System.arraycopy(text, 0, buffer, 7, text.length);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        boolean representable;
        try (JsonGenerator out = FACTORY.createGenerator(bytes)) {
            out.writeStartObject();
            out.writeFieldName("before");
            out.writeNumber(1);
            out.writeFieldName("v");
            representable = encoder.write(out, buffer, 7, text.length);
            out.writeFieldName("after");
            out.writeNumber(2);
            out.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String document = strictUtf8(bytes.toByteArray());
        assertValidJson(document);
        String prefix = "{\"before\":1,\"v\":";
        String suffix = ",\"after\":2}";
        assertThat(document).startsWith(prefix).endsWith(suffix);
        return new Encoded(document.substring(prefix.length(), document.length() - suffix.length()), representable);
    }

    /**
     * Reads every token of the document. Duplicate keys are allowed ({@code json} keeps them) and the
     * limits on nesting and number length are lifted: the output must be JSON, not fit Jackson's defaults.
     */
    static void assertValidJson(String document) {
        try (JsonParser p = PERMISSIVE_LIMITS.createParser(document)) {
            while (p.nextToken() != null) {
                // reading is the check
            }
        } catch (IOException e) {
            throw new AssertionError("not valid JSON: " + abbreviate(document), e);
        }
    }

    private static String abbreviate(String s) {
        return s.length() > 300 ? s.substring(0, 300) + "..." : s;
    }

    static String strictUtf8(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new AssertionError("output is not valid UTF-8", e);
        }
    }

    static PgType arrayOf(PgType element) {
        return PgType.arrayOf(element.oid() + 100_000, element);
    }
}
