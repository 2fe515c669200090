package io.sourcepostgres.capture;

import io.sourcepostgres.airbyte.AirbyteOutput;
import io.sourcepostgres.airbyte.StateCodec;
import java.time.Duration;

/**
 * Decides when a STATE is emitted and emits it. A state is only ever emitted at a transaction boundary
 * (the caller guarantees that); with a checkpoint interval, several commits may share one state.
 */
public final class Checkpoints {
    private final AirbyteOutput out;
    private final long intervalNanos;
    private CaptureState state;
    private CaptureState lastEmitted;
    private long recordsSinceState;
    private long lastEmitNanos;
    private long statesEmitted;
    // The streams' progress of the last state emitted, encoded: it changes with backfill chunks, not commits.
    private java.util.Map<io.sourcepostgres.airbyte.StreamId, StreamProgress> encodedStreams;
    private String encodedStreamStates;
    private java.util.function.BooleanSupplier held = () -> false;

    /**
     * @param initial the state the run starts from
     * @param initialKnownDownstream whether the orchestrator already holds {@code initial} (it passed it in),
     *     so that it need not be emitted again unless something changes
     */
    public Checkpoints(AirbyteOutput out, CaptureState initial, boolean initialKnownDownstream, Duration interval) {
        this.out = out;
        this.state = initial;
        this.lastEmitted = initialKnownDownstream ? initial : null;
        this.intervalNanos = interval.toNanos();
        this.lastEmitNanos = System.nanoTime() - intervalNanos;
    }

    public CaptureState state() {
        return state;
    }

    public void update(CaptureState newState) {
        this.state = newState;
    }

    public void countRecord() {
        recordsSinceState++;
    }

    public long recordsSinceState() {
        return recordsSinceState;
    }

    public long statesEmitted() {
        return statesEmitted;
    }

    /** After a commit: emits a state unless the interval asks to coalesce. */
    public void committed() {
        if (state.equals(lastEmitted) && recordsSinceState == 0) {
            return; // nothing new since the last state (a backfill chunk just emitted it)
        }
        if (intervalNanos == 0 || System.nanoTime() - lastEmitNanos >= intervalNanos) {
            emit();
        }
    }

    /** Emits a state if anything changed since the last one and the interval allows it. */
    public void emitIfDue() {
        if (!state.equals(lastEmitted) || recordsSinceState > 0) {
            if (System.nanoTime() - lastEmitNanos >= intervalNanos) {
                emit();
            }
        }
    }

    /** The last state of a run: emitted unless the very same state was just emitted. */
    public void emitFinal() {
        if (lastEmitted == null || !state.equals(lastEmitted) || recordsSinceState > 0) {
            emit();
        }
    }

    /**
     * While {@code condition} holds, no state is emitted: a state now would claim an image the output does
     * not hold yet. The state held back goes out at the next chance once the condition clears.
     */
    public void holdWhile(java.util.function.BooleanSupplier condition) {
        this.held = condition;
    }

    /** Emits the current state now, unless states are held. */
    public void emit() {
        if (held.getAsBoolean()) {
            return;
        }
        if (state.streams() != encodedStreams) {
            try {
                encodedStreamStates = io.sourcepostgres.airbyte.Json.MAPPER.writeValueAsString(StateCodec.streamStates(state));
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new IllegalStateException("cannot encode the streams' progress", e);
            }
            encodedStreams = state.streams();
        }
        out.state(state, encodedStreamStates, recordsSinceState);
        lastEmitted = state;
        recordsSinceState = 0;
        lastEmitNanos = System.nanoTime();
        statesEmitted++;
    }
}
