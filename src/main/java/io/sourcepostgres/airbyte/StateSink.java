package io.sourcepostgres.airbyte;

/**
 * Where STATE messages go. A state is written whole; it reaches stdout with the next flush, which the capture
 * asks for at its own cadence (so that a state per commit does not cost a write per commit).
 */
public interface StateSink {
    /** Writes {@code state} as one STATE line. */
    void state(GlobalState state);

    /** Bytes of output so far, written or still buffered: the checkpoint policy weighs states against it. */
    long bytesWritten();
}
