package io.sourcepostgres.airbyte;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.ErrorReportConfiguration;
import com.fasterxml.jackson.core.ObjectCodec;
import com.fasterxml.jackson.core.io.ContentReference;
import com.fasterxml.jackson.core.io.IOContext;
import com.fasterxml.jackson.core.json.UTF8JsonGenerator;
import com.fasterxml.jackson.core.util.BufferRecycler;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Arrays;

/**
 * A generator whose output reaches its target one whole line at a time: a line is encoded into the
 * generator's own (reused) buffer, and only {@link #commit} hands it on. {@link #abort} drops a line that
 * failed half-way, so that no reader ever sees part of a message. A line longer than the buffer spills into
 * a side buffer that is held back the same way.
 *
 * <p>Not thread-safe; the caller serialises {@link #commit} with every other writer of the target.
 */
final class WholeLine {
    private final ObjectCodec codec;
    private final byte[] buffer;
    private final Hold hold = new Hold();
    private JsonGenerator gen;

    WholeLine(ObjectCodec codec, int bufferBytes) {
        this.codec = codec;
        this.buffer = new byte[bufferBytes];
        this.gen = newGenerator();
    }

    /** The generator for the next line; nothing written to it leaves until {@link #commit}. */
    JsonGenerator begin() {
        hold.open = true;
        return gen;
    }

    /** Writes the line begun by {@link #begin} to {@code target}: the spilled start, then the rest. */
    void commit(OutputStream target) throws IOException {
        hold.target = target;
        hold.open = false;
        if (hold.length > 0) {
            target.write(hold.bytes, 0, hold.length);
            hold.length = 0;
        }
        gen.flush(); // passes the buffer straight on: the hold is closed
    }

    /** Forgets everything written since {@link #begin}; the next line starts clean. */
    void abort() {
        hold.open = false;
        hold.length = 0;
        if (hold.bytes.length > buffer.length) {
            hold.bytes = new byte[0]; // do not keep one huge line's memory for good
        }
        // A generator left inside an object cannot be rewound; a fresh one over the same buffer can.
        gen = newGenerator();
    }

    private JsonGenerator newGenerator() {
        JsonFactory factory = Json.MAPPER.getFactory();
        IOContext context = new IOContext(factory.streamReadConstraints(), factory.streamWriteConstraints(),
                ErrorReportConfiguration.defaults(), new BufferRecycler(), ContentReference.rawReference(hold), false);
        context.setEncoding(JsonEncoding.UTF8);
        JsonGenerator g = new UTF8JsonGenerator(context, factory.getGeneratorFeatures(), codec, hold, '"', buffer, 0,
                false);
        g.setRootValueSeparator(null);
        g.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
        g.disable(JsonGenerator.Feature.FLUSH_PASSED_TO_STREAM);
        return g;
    }

    /** Below the generator: holds what it flushes while a line is open, passes it on otherwise. */
    private static final class Hold extends OutputStream {
        boolean open;
        OutputStream target;
        byte[] bytes = new byte[0];
        int length;

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            if (!open) {
                target.write(b, off, len);
                return;
            }
            if (length + len > bytes.length) {
                bytes = Arrays.copyOf(bytes, Math.max(length + len, Math.max(bytes.length * 2, 1 << 16)));
            }
            System.arraycopy(b, off, bytes, length, len);
            length += len;
        }
    }
}
