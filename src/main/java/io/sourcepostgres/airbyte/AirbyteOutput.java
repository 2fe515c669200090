package io.sourcepostgres.airbyte;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.io.ContentReference;
import com.fasterxml.jackson.core.io.IOContext;
import com.fasterxml.jackson.core.json.UTF8JsonGenerator;
import com.fasterxml.jackson.core.util.BufferRecycler;
import com.fasterxml.jackson.core.io.SerializedString;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;

/**
 * The only writer of stdout: one Airbyte message per line, written through a streaming generator into a
 * large buffer. Records are written straight into the buffer (no tree per row); the buffer is flushed
 * when a caller asks (after a STATE, when the source goes idle) and before any non-record message, so
 * logs and traces are never held back behind records.
 *
 * <p>Methods are synchronized so that the logging of background threads cannot tear a line; the data
 * path calls them from one thread, where an uncontended lock costs next to nothing.
 */
public final class AirbyteOutput implements AutoCloseable {
    private static final int BUFFER_BYTES = 1 << 17;
    /**
     * Writes the tree of a message without flushing after it, as the mapper would by default: a STATE after
     * every commit must not cost a write of its own (this class decides when to flush).
     */
    private static final ObjectMapper WITHOUT_FLUSH = Json.MAPPER.copy()
            .disable(SerializationFeature.FLUSH_AFTER_WRITE_VALUE);
    /** What follows a record's {@code data} object (and its {@code meta}, if any): the ends of two objects, the line. */
    private static final SerializedString RECORD_END = new SerializedString("}}\n");

    private final JsonGenerator gen;
    private final OutputStream out;
    private final CountingOutputStream counted;
    private final Secrets secrets;
    private volatile LogLevel threshold = LogLevel.INFO;
    private long lastFlushNanos = System.nanoTime();
    // A record's envelope, encoded: its start per stream, its time while the millisecond lasts.
    private final java.util.Map<StreamId, SerializedString> envelopeStarts = new java.util.HashMap<>();
    private long envelopeMillis = Long.MIN_VALUE;
    private SerializedString envelopeTime;

    public AirbyteOutput(OutputStream stdout, Secrets secrets) {
        this(new CountingOutputStream(stdout), secrets);
    }

    private AirbyteOutput(CountingOutputStream stdout, Secrets secrets) {
        this.counted = stdout;
        this.out = stdout;
        this.secrets = secrets;
        // The generator's own buffer is the output buffer: a large one, written straight to stdout, rather
        // than the factory's 8 KB one copied into a second buffer.
        JsonFactory factory = Json.MAPPER.getFactory();
        IOContext context = new IOContext(factory.streamReadConstraints(), factory.streamWriteConstraints(),
                com.fasterxml.jackson.core.ErrorReportConfiguration.defaults(), new BufferRecycler(), ContentReference.rawReference(stdout), false);
        context.setEncoding(JsonEncoding.UTF8);
        this.gen = new UTF8JsonGenerator(context, factory.getGeneratorFeatures(), WITHOUT_FLUSH, stdout, '"',
                new byte[BUFFER_BYTES], 0, false);
        gen.setRootValueSeparator(null);
        gen.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
        gen.disable(JsonGenerator.Feature.FLUSH_PASSED_TO_STREAM);
    }

    /** Bytes of output so far, written or still buffered: the checkpoint policy weighs states against it. */
    public synchronized long bytesWritten() {
        return counted.count + gen.getOutputBuffered();
    }

    /** Counts what reaches stdout; the generator writes its whole buffer at a time, so this costs nothing. */
    private static final class CountingOutputStream extends java.io.FilterOutputStream {
        long count;

        CountingOutputStream(OutputStream out) {
            super(out);
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            count += len;
        }
    }

    public Secrets secrets() {
        return secrets;
    }

    public void setLogLevel(LogLevel level) {
        this.threshold = level;
    }

    public boolean isEnabled(LogLevel level) {
        return level.enabledAt(threshold);
    }

    // ---- records: the hot path ---------------------------------------------------------------------

    /**
     * Starts a RECORD and leaves the generator inside its {@code data} object: the caller writes the
     * fields, then calls {@link #endRecord}. Nothing else may be written in between.
     *
     * <p>The envelope around {@code data} is the same for every record of a stream but for its time, so it
     * is written as two pre-encoded pieces, one per stream and one per millisecond; the generator only sees
     * the {@code data} object, which it takes for a value at the root.
     */
    public synchronized JsonGenerator beginRecord(StreamId stream, long emittedAtMillis) {
        try {
            if (emittedAtMillis != envelopeMillis) {
                envelopeTime = new SerializedString(emittedAtMillis + ",\"data\":");
                envelopeMillis = emittedAtMillis;
            }
            gen.writeRaw(envelopeStart(stream));
            gen.writeRaw(envelopeTime);
            gen.writeStartObject();
            return gen;
        } catch (IOException e) {
            throw stdoutFailed(e);
        }
    }

    /** Closes the record begun by {@link #beginRecord}, with the fields whose value had to be nulled. */
    public synchronized void endRecord(List<MetaChange> changes) {
        try {
            gen.writeEndObject(); // data
            if (changes != null && !changes.isEmpty()) {
                StringBuilder meta = new StringBuilder(",\"meta\":{\"changes\":[");
                for (MetaChange c : changes) {
                    meta.append(meta.charAt(meta.length() - 1) == '[' ? "" : ",")
                            .append("{\"field\":").append(Json.MAPPER.writeValueAsString(c.field()))
                            .append(",\"change\":").append(Json.MAPPER.writeValueAsString(c.change()))
                            .append(",\"reason\":").append(Json.MAPPER.writeValueAsString(c.reason())).append('}');
                }
                gen.writeRaw(meta.append("]}").toString());
            }
            gen.writeRaw(RECORD_END);
        } catch (IOException e) {
            throw stdoutFailed(e);
        }
    }

    /** {@code {"type":"RECORD","record":{"namespace":...,"stream":...,"emitted_at":} for {@code stream}. */
    private SerializedString envelopeStart(StreamId stream) throws IOException {
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
        return start;
    }

    // ---- state ---------------------------------------------------------------------------------------

    /**
     * Writes a STATE message for {@code state}, without building a tree; {@code streamStatesJson} is its
     * {@code stream_states} array, encoded ({@link StateCodec#streamStates}). It is not flushed here: the
     * capture flushes whenever replication goes idle (so a state never waits behind a quiet stream) and at
     * most a millisecond after a commit while it stays busy; one write per small transaction would cost more
     * than the transaction.
     */
    public synchronized void state(io.sourcepostgres.capture.CaptureState state, String streamStatesJson, long recordCount) {
        try {
            gen.writeStartObject();
            gen.writeStringField("type", "STATE");
            gen.writeFieldName("state");
            StateCodec.writeMessage(gen, state, streamStatesJson, recordCount);
            gen.writeEndObject();
            gen.writeRaw('\n');
        } catch (IOException e) {
            throw stdoutFailed(e);
        }
    }

    // ---- everything else -----------------------------------------------------------------------------

    public synchronized void spec(JsonNode connectorSpecification) {
        writeMessage("SPEC", "spec", connectorSpecification);
        flush();
    }

    public synchronized void catalog(JsonNode airbyteCatalog) {
        writeMessage("CATALOG", "catalog", airbyteCatalog);
        flush();
    }

    public synchronized void connectionStatus(boolean succeeded, String message) {
        try {
            gen.writeStartObject();
            gen.writeStringField("type", "CONNECTION_STATUS");
            gen.writeFieldName("connectionStatus");
            gen.writeStartObject();
            gen.writeStringField("status", succeeded ? "SUCCEEDED" : "FAILED");
            if (message != null) {
                gen.writeStringField("message", secrets.redact(message));
            }
            gen.writeEndObject();
            gen.writeEndObject();
            gen.writeRaw('\n');
        } catch (IOException e) {
            throw stdoutFailed(e);
        }
        flush();
    }

    public void log(LogLevel level, String message) {
        log(level, message, null);
    }

    public synchronized void log(LogLevel level, String message, Throwable error) {
        if (!isEnabled(level)) {
            return;
        }
        try {
            gen.writeStartObject();
            gen.writeStringField("type", "LOG");
            gen.writeFieldName("log");
            gen.writeStartObject();
            gen.writeStringField("level", level.name());
            gen.writeStringField("message", secrets.redact(message));
            if (error != null) {
                gen.writeStringField("stack_trace", secrets.redact(stackTrace(error)));
            }
            gen.writeEndObject();
            gen.writeEndObject();
            gen.writeRaw('\n');
        } catch (IOException e) {
            throw stdoutFailed(e);
        }
        flush();
    }

    public synchronized void traceError(FailureType failureType, String message, Throwable error, StreamId stream) {
        try {
            traceStart("ERROR");
            gen.writeFieldName("error");
            gen.writeStartObject();
            gen.writeStringField("message", secrets.redact(message));
            if (error != null) {
                gen.writeStringField("internal_message", secrets.redact(String.valueOf(error)));
                gen.writeStringField("stack_trace", secrets.redact(stackTrace(error)));
            }
            gen.writeStringField("failure_type", failureType.wireName());
            if (stream != null) {
                writeStreamDescriptor("stream_descriptor", stream);
            }
            gen.writeEndObject();
            traceEnd();
        } catch (IOException e) {
            throw stdoutFailed(e);
        }
        flush();
    }

    public synchronized void streamStatus(StreamId stream, StreamStatus status) {
        try {
            traceStart("STREAM_STATUS");
            gen.writeFieldName("stream_status");
            gen.writeStartObject();
            writeStreamDescriptor("stream_descriptor", stream);
            gen.writeStringField("status", status.name());
            gen.writeEndObject();
            traceEnd();
        } catch (IOException e) {
            throw stdoutFailed(e);
        }
        flush();
    }

    public synchronized void estimate(StreamId stream, long rowEstimate, long byteEstimate) {
        try {
            traceStart("ESTIMATE");
            gen.writeFieldName("estimate");
            gen.writeStartObject();
            gen.writeStringField("name", stream.name());
            gen.writeStringField("type", "STREAM");
            if (stream.namespace() != null) {
                gen.writeStringField("namespace", stream.namespace());
            }
            gen.writeNumberField("row_estimate", rowEstimate);
            if (byteEstimate >= 0) {
                gen.writeNumberField("byte_estimate", byteEstimate);
            }
            gen.writeEndObject();
            traceEnd();
        } catch (IOException e) {
            throw stdoutFailed(e);
        }
        flush();
    }

    public synchronized void flush() {
        lastFlushNanos = System.nanoTime();
        try {
            gen.flush();
            out.flush();
        } catch (IOException e) {
            throw stdoutFailed(e);
        }
    }

    /**
     * Flushes unless the last flush is more recent than {@code nanos}: a busy stream that never goes idle
     * still reaches the reader within that bound, at one write per bound rather than one per message.
     */
    public synchronized void flushIfOlderThan(long nanos) {
        if (System.nanoTime() - lastFlushNanos >= nanos) {
            flush();
        }
    }

    @Override
    public synchronized void close() {
        flush();
    }

    private void writeMessage(String type, String field, JsonNode body) {
        try {
            gen.writeStartObject();
            gen.writeStringField("type", type);
            gen.writeFieldName(field);
            gen.writeTree(body);
            gen.writeEndObject();
            gen.writeRaw('\n');
        } catch (IOException e) {
            throw stdoutFailed(e);
        }
    }

    private void traceStart(String type) throws IOException {
        gen.writeStartObject();
        gen.writeStringField("type", "TRACE");
        gen.writeFieldName("trace");
        gen.writeStartObject();
        gen.writeStringField("type", type);
        gen.writeNumberField("emitted_at", System.currentTimeMillis());
    }

    private void traceEnd() throws IOException {
        gen.writeEndObject();
        gen.writeEndObject();
        gen.writeRaw('\n');
    }

    private void writeStreamDescriptor(String field, StreamId stream) throws IOException {
        gen.writeFieldName(field);
        gen.writeStartObject();
        gen.writeStringField("name", stream.name());
        if (stream.namespace() != null) {
            gen.writeStringField("namespace", stream.namespace());
        }
        gen.writeEndObject();
    }

    private static String stackTrace(Throwable error) {
        StringWriter sw = new StringWriter();
        error.printStackTrace(new PrintWriter(sw));
        return sw.toString();
    }

    private static StdoutFailedException stdoutFailed(IOException e) {
        return new StdoutFailedException(e);
    }
}
