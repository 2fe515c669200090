package io.sourcepostgres.airbyte;

/**
 * Where STATE messages go. A state is written whole; it reaches stdout with the next flush, which the capture
 * asks for at its own cadence (so that a state per commit does not cost a write per commit).
 */
public interface StateSink {
    /**
     * Writes a STATE for {@code state}; {@code streamStatesJson} is its {@code stream_states} array, encoded
     * ({@link StateCodec#streamStates}), and {@code recordCount} the records since the previous state.
     */
    void state(io.sourcepostgres.capture.CaptureState state, String streamStatesJson, long recordCount);

    /** Bytes of output so far, written or still buffered: the checkpoint policy weighs states against it. */
    long bytesWritten();
}
