package io.sourcepostgres.airbyte;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.io.SerializedString;
import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes RECORD messages, each whole or not at all: a record's fields are encoded into a buffer of its own,
 * and only a record that was encoded to its end is copied to stdout. When encoding throws (a value its
 * encoder cannot read, a failpoint), the record is dropped and the exception goes on to the caller, which
 * ends the run with a TRACE ERROR on a line of its own — never after half a record.
 *
 * <p>The generator exists only inside {@link Data#write}: no caller can write outside a record, or leave
 * one open. Used by the capture thread only; the copy to stdout takes {@link AirbyteOutput}'s lock, so the
 * logging of other threads cannot tear a line.
 */
public final class RecordSink {
    /** What follows a record's {@code data} object (and its {@code meta}, if any): the ends of two objects, the line. */
    private static final SerializedString RECORD_END = new SerializedString("}}\n");
    private static final int BUFFER_BYTES = 1 << 16;

    /** Writes the fields of a record's {@code data} object (the object itself is opened and closed around it). */
    @FunctionalInterface
    public interface Data {
        void write(JsonGenerator data) throws IOException;
    }

    private final AirbyteOutput output;
    private final WholeLine line = new WholeLine(Json.MAPPER, BUFFER_BYTES);
    // A record's envelope, encoded: its start per stream, its time while the millisecond lasts.
    private final Map<StreamId, SerializedString> envelopeStarts = new HashMap<>();
    private long envelopeMillis = Long.MIN_VALUE;
    private SerializedString envelopeTime;
    // The last stream's envelope start: consecutive records mostly belong to one stream (the same StreamId object).
    private StreamId lastStream;
    private SerializedString lastStart;

    RecordSink(AirbyteOutput output) {
        this.output = output;
    }

    /**
     * Writes one RECORD of {@code stream}. {@code changes} (the fields whose value had to be nulled) is read
     * after {@code data} has run, so {@code data} may add to it.
     *
     * @throws RuntimeException whatever {@code data} throws (an {@link java.io.UncheckedIOException} for an
     *     IOException), after the record was dropped whole
     */
    public void write(StreamId stream, long emittedAtMillis, Data data, List<MetaChange> changes) {
        try {
            JsonGenerator g = line.begin();
            // The envelope around data is the same for every record of a stream but for its time: two
            // pre-encoded pieces, one per stream and one per millisecond.
            if (emittedAtMillis != envelopeMillis) {
                envelopeTime = new SerializedString(emittedAtMillis + ",\"data\":");
                envelopeMillis = emittedAtMillis;
            }
            g.writeRaw(envelopeStart(stream));
            g.writeRaw(envelopeTime);
            g.writeStartObject();
            data.write(g);
            g.writeEndObject();
            if (changes != null && !changes.isEmpty()) {
                g.writeRaw(meta(changes));
            }
            g.writeRaw(RECORD_END);
        } catch (IOException e) {
            abort();
            throw new java.io.UncheckedIOException("Encoding a record of " + stream + " failed: " + e.getMessage(), e);
        } catch (RuntimeException | Error e) {
            abort();
            throw e;
        }
        output.commitRecord(line);
    }

    /** Drops the record being encoded, if any: none of it reaches stdout. */
    public void abort() {
        line.abort();
    }

    private static String meta(List<MetaChange> changes) throws IOException {
        StringBuilder meta = new StringBuilder(",\"meta\":{\"changes\":[");
        for (MetaChange c : changes) {
            meta.append(meta.charAt(meta.length() - 1) == '[' ? "" : ",")
                    .append("{\"field\":").append(Json.MAPPER.writeValueAsString(c.field()))
                    .append(",\"change\":").append(Json.MAPPER.writeValueAsString(c.change()))
                    .append(",\"reason\":").append(Json.MAPPER.writeValueAsString(c.reason())).append('}');
        }
        return meta.append("]}").toString();
    }

    /** {@code {"type":"RECORD","record":{"namespace":...,"stream":...,"emitted_at":} for {@code stream}. */
    private SerializedString envelopeStart(StreamId stream) throws IOException {
        if (stream == lastStream) {
            return lastStart;
        }
        SerializedString start = envelopeStarts.get(stream);
        if (start == null) {
            StringBuilder sb = new StringBuilder("{\"type\":\"RECORD\",\"record\":{");
            if (stream.namespace() != null) {
                sb.append("\"namespace\":").append(Json.MAPPER.writeValueAsString(stream.namespace())).append(',');
            }
            sb.append("\"stream\":").append(Json.MAPPER.writeValueAsString(stream.name())).append(",\"emitted_at\":");
            start = new SerializedString(sb.toString());
            envelopeStarts.put(stream, start);
        }
        lastStream = stream;
        lastStart = start;
        return start;
    }
}
