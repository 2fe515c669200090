package io.sourcepostgres.airbyte;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.io.SerializedString;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.sourcepostgres.failpoints.Failpoints;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;

/**
 * The only writer of stdout: one Airbyte message per line, each encoded whole by a streaming generator
 * before it is copied into a large buffer, so that a message that fails half-way leaves nothing behind.
 * Records go through {@link #records()} (no tree per row); states through {@link StateSink}; logs through
 * {@link LogSink}. The buffer is flushed when a caller asks (after a STATE, when the source goes idle) and
 * after any message other than a record or a state, so logs and traces are never held back behind records.
 *
 * <p>Methods are synchronized so that the logging of background threads cannot tear a line; the data
 * path calls them from one thread, where an uncontended lock costs next to nothing.
 */
public final class AirbyteOutput implements StateSink, LogSink, AutoCloseable {
    private static final int BUFFER_BYTES = 1 << 17;
    /**
     * Writes the tree of a message without flushing after it, as the mapper would by default: a STATE after
     * every commit must not cost a write of its own (this class decides when to flush).
     */
    private static final ObjectMapper WITHOUT_FLUSH = Json.MAPPER.copy()
            .disable(SerializationFeature.FLUSH_AFTER_WRITE_VALUE);
    private final WholeLine line = new WholeLine(WITHOUT_FLUSH, 1 << 13);
    /** Every message's generator writes the whole message into this buffer, which goes to stdout on flush. */
    private final java.io.BufferedOutputStream buffered;
    private final RecordSink records = new RecordSink(this);
    private JsonGenerator gen;
    /** Whether a STATE was written since the last flush (the failpoint after-state-written fires once it is out). */
    private boolean stateUnflushed;
    /** Counts every byte handed to the output (buffered or written): the checkpoint policy weighs states by it. */
    private final CountingOutputStream counted;
    private final Secrets secrets;
    private volatile LogLevel threshold = LogLevel.INFO;
    private long lastFlushNanos = System.nanoTime();
    /**
     * The last state's {@code stream_states} and its UTF-8 bytes: the array seldom changes between states (the
     * same String comes back), and encoding it anew per state was most of a per-commit state's cost.
     */
    private String streamStatesJson;
    private SerializedString streamStatesUtf8;

    public AirbyteOutput(OutputStream stdout, Secrets secrets) {
        this.buffered = new java.io.BufferedOutputStream(stdout, BUFFER_BYTES);
        this.counted = new CountingOutputStream(buffered);
        this.secrets = secrets;
    }

    /** Bytes of output so far, written or still buffered: the checkpoint policy weighs states against it. */
    public synchronized long bytesWritten() {
        return counted.count;
    }

    /** Counts the bytes of whole messages as they are handed to the output buffer. */
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

    @Override
    public boolean isEnabled(LogLevel level) {
        return level.enabledAt(threshold);
    }

    // ---- records: the hot path ---------------------------------------------------------------------

    /** The sink of RECORD messages, each written whole or not at all. One per output; capture thread only. */
    public RecordSink records() {
        return records;
    }

    /** Copies a record that {@link RecordSink} encoded to its end into the output buffer. */
    synchronized void commitRecord(WholeLine record) {
        try {
            record.commit(counted);
        } catch (IOException e) {
            throw stdoutFailed(e);
        }
    }

    // ---- state ---------------------------------------------------------------------------------------

    /**
     * Writes a STATE message without building a tree. It is not flushed here: the capture flushes whenever
     * replication goes idle (so a state never waits behind a quiet stream) and at most a millisecond after a
     * commit while it stays busy; one write per small transaction would cost more than the transaction.
     */
    @Override
    public synchronized void state(GlobalState state) {
        try {
            gen = line.begin();
            gen.writeStartObject();
            gen.writeStringField("type", "STATE");
            gen.writeFieldName("state");
            writeGlobalState(gen, state, streamStatesUtf8(state.streamStatesJson()));
            gen.writeEndObject();
            gen.writeRaw('\n');
        } catch (IOException | RuntimeException e) {
            line.abort();
            throw encodingFailed(e);
        }
        endLine();
        stateUnflushed = true;
        if (Failpoints.isOn(Failpoints.AFTER_STATE_WRITTEN)) {
            flush(); // only under that test: the point is a state on stdout with nothing after it
        }
    }

    private SerializedString streamStatesUtf8(String json) {
        if (json != streamStatesJson) { // identity: the keeper of the states hands back the same String until it changes
            streamStatesUtf8 = new SerializedString(json);
            streamStatesJson = json;
        }
        return streamStatesUtf8;
    }

    private static void writeGlobalState(JsonGenerator g, GlobalState state, SerializedString streamStates)
            throws IOException {
        g.writeStartObject();
        g.writeStringField("type", "GLOBAL");
        g.writeFieldName("global");
        g.writeStartObject();
        g.writeFieldName("shared_state");
        g.writeStartObject();
        g.writeNumberField("state_version", state.stateVersion());
        g.writeStringField("position", state.position());
        g.writeStringField("system_identifier", state.systemIdentifier());
        g.writeStringField("slot_name", state.slotName());
        if (state.timeline() > 0) {
            g.writeNumberField("timeline", state.timeline());
        }
        if (state.unsentImagesJson() != null) {
            g.writeFieldName("unsent_images");
            g.writeRawValue(state.unsentImagesJson());
        }
        g.writeEndObject();
        g.writeFieldName("stream_states");
        g.writeRawValue(streamStates);
        g.writeEndObject();
        g.writeFieldName("sourceStats");
        g.writeStartObject();
        g.writeFieldName("recordCount");
        long count = state.recordCount();
        if (count >= 0 && count < 10_000_000) {
            // What Double.toString prints for a whole number below 10^7 (above it, an exponent), without its cost.
            g.writeNumber(count + ".0");
        } else {
            g.writeNumber((double) count);
        }
        g.writeEndObject();
        g.writeEndObject();
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
            gen = line.begin();
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
        } catch (IOException | RuntimeException e) {
            line.abort();
            throw encodingFailed(e);
        }
        endLine();
        flush();
    }

    @Override
    public void log(LogLevel level, String message) {
        log(level, message, null);
    }

    @Override
    public synchronized void log(LogLevel level, String message, Throwable error) {
        if (!isEnabled(level)) {
            return;
        }
        try {
            gen = line.begin();
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
        } catch (IOException | RuntimeException e) {
            line.abort();
            throw encodingFailed(e);
        }
        endLine();
        flush();
    }

    public synchronized void traceError(FailureType failureType, String message, Throwable error, StreamId stream) {
        try {
            gen = line.begin();
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
        } catch (IOException | RuntimeException e) {
            line.abort();
            throw encodingFailed(e);
        }
        endLine();
        flush();
    }

    public synchronized void streamStatus(StreamId stream, StreamStatus status) {
        try {
            gen = line.begin();
            traceStart("STREAM_STATUS");
            gen.writeFieldName("stream_status");
            gen.writeStartObject();
            writeStreamDescriptor("stream_descriptor", stream);
            gen.writeStringField("status", status.name());
            gen.writeEndObject();
            traceEnd();
        } catch (IOException | RuntimeException e) {
            line.abort();
            throw encodingFailed(e);
        }
        endLine();
        flush();
    }

    public synchronized void estimate(StreamId stream, long rowEstimate, long byteEstimate) {
        try {
            gen = line.begin();
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
        } catch (IOException | RuntimeException e) {
            line.abort();
            throw encodingFailed(e);
        }
        endLine();
        flush();
    }

    public synchronized void flush() {
        lastFlushNanos = System.nanoTime();
        try {
            buffered.flush();
        } catch (IOException e) {
            throw stdoutFailed(e);
        }
        if (stateUnflushed) {
            stateUnflushed = false;
            // A STATE is on stdout and nothing after it: where a crash must resume exactly from it.
            Failpoints.hit(Failpoints.AFTER_STATE_WRITTEN);
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
            gen = line.begin();
            gen.writeStartObject();
            gen.writeStringField("type", type);
            gen.writeFieldName(field);
            gen.writeTree(body);
            gen.writeEndObject();
            gen.writeRaw('\n');
        } catch (IOException | RuntimeException e) {
            line.abort();
            throw encodingFailed(e);
        }
        endLine();
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

    /** Hands the message encoded since {@code line.begin()} to the output buffer, whole. */
    private void endLine() {
        try {
            line.commit(counted);
        } catch (IOException e) {
            throw stdoutFailed(e);
        }
    }

    /** A message that could not be encoded (it was dropped whole): a bug, not a failure of stdout. */
    private static RuntimeException encodingFailed(Exception e) {
        if (e instanceof RuntimeException r) {
            return r;
        }
        return new IllegalStateException("Encoding a message failed: " + e.getMessage(), e);
    }

    private static StdoutFailedException stdoutFailed(IOException e) {
        return new StdoutFailedException(e);
    }
}
