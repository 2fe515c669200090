package io.sourcepostgres.state;

import io.sourcepostgres.airbyte.StateSink;
import io.sourcepostgres.airbyte.Json;
import io.sourcepostgres.airbyte.StreamId;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;

/**
 * Holds the capture's progress and emits it as STATE when {@link CheckpointPolicy} says one is due. A state is
 * only ever emitted at a transaction boundary (the callers guarantee that), and never twice the same: one is
 * emitted only when the position or a stream's progress moved since the last.
 *
 * <p>The progress is kept in place (a position and a map of the streams) rather than as a new
 * {@link CaptureState} per change: with thousands of streams, a copy of the map per backfill chunk would cost
 * more than the chunk. A {@link CaptureState} is made when asked for, and encoded only when emitted.
 */
public final class Checkpoints {
    /** Bytes of one stream's entry besides its name and namespace, as {@link StateCodec} writes a finished one. */
    private static final int ENTRY_OVERHEAD_BYTES = 64;
    /** The state message around {@code stream_states}. */
    private static final int MESSAGE_OVERHEAD_BYTES = 256;

    private final StateSink out;
    private final java.util.function.LongSupplier clock;
    private final CheckpointPolicy policy;
    private final String systemIdentifier;
    private final String slotName;
    private final int timeline;
    private final TreeMap<StreamId, StreamProgress> streams;
    /** The state once every stream's backfill is done: the size the state grows to. */
    private final long finishedStateBytes;
    private long position;
    private CaptureState current; // made from position and streams when asked for; null after a change
    private boolean positionMoved; // since the last state emitted (or the state known downstream)
    private boolean progressMoved;
    private boolean emittedOrKnown;
    private String encodedStreamStates; // of the streams as they were when last encoded; null after a change
    private long encodedStateBytes;
    /** The whole last STATE line as written, images set aside included (they can outweigh the streams). */
    private long lastStateLineBytes;
    private long recordsSinceState;
    private long bytesAtLastState;
    private java.util.function.Supplier<com.fasterxml.jackson.databind.JsonNode> unsentImages = () -> null;
    private long lastEmitNanos;
    private long statesEmitted;

    /**
     * @param initial the state the run starts from
     * @param initialKnownDownstream whether the orchestrator already holds {@code initial} (it passed it in),
     *     so that it need not be emitted again unless something changes
     * @param interval {@code checkpoint_interval_ms}: zero for the adaptive policy
     */
    public Checkpoints(StateSink out, CaptureState initial, boolean initialKnownDownstream, Duration interval) {
        this(out, initial, initialKnownDownstream, interval, System::nanoTime);
    }

    /** As above, with the clock the policy's time rules read (a test freezes it). */
    Checkpoints(StateSink out, CaptureState initial, boolean initialKnownDownstream, Duration interval,
            java.util.function.LongSupplier clock) {
        this.clock = clock;
        this.out = out;
        this.policy = new CheckpointPolicy(interval);
        this.systemIdentifier = initial.systemIdentifier();
        this.slotName = initial.slotName();
        this.timeline = initial.timeline();
        this.streams = new TreeMap<>(initial.streams());
        this.position = initial.position();
        this.current = initial;
        this.emittedOrKnown = initialKnownDownstream;
        this.positionMoved = !initialKnownDownstream;
        this.progressMoved = !initialKnownDownstream;
        long bytes = MESSAGE_OVERHEAD_BYTES + slotName.length() + systemIdentifier.length();
        for (StreamId id : streams.keySet()) {
            bytes += ENTRY_OVERHEAD_BYTES + id.name().length() + (id.namespace() == null ? 0 : id.namespace().length());
        }
        this.finishedStateBytes = bytes;
        this.bytesAtLastState = out.bytesWritten();
        this.lastEmitNanos = clock.getAsLong();
    }

    /** The progress as a state (made anew only after a change). */
    public CaptureState state() {
        if (current == null) {
            current = new CaptureState(position, systemIdentifier, slotName, timeline, streams);
        }
        return current;
    }

    public long position() {
        return position;
    }

    /** Replaces the whole progress (a stream reset, a test). */
    public void update(CaptureState newState) {
        advance(newState.position());
        if (!newState.streams().equals(streams)) {
            streams.clear();
            streams.putAll(newState.streams());
            streamsChanged();
        }
    }

    /** The replication position moved to {@code newPosition} (at a transaction boundary). */
    public void advance(long newPosition) {
        if (newPosition != position) {
            position = newPosition;
            positionMoved = true;
            current = null;
        }
    }

    /** The progress of {@code stream}, or null when it is not in the state. */
    public StreamProgress progressOf(StreamId stream) {
        return streams.get(stream);
    }

    /** {@code stream}'s backfill moved on to {@code progress}. */
    public void progress(StreamId stream, StreamProgress progress) {
        if (!progress.equals(streams.put(stream, progress))) {
            streamsChanged();
        }
    }

    private void streamsChanged() {
        progressMoved = true;
        current = null;
        encodedStreamStates = null;
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

    /** After a commit: emits a state if one is due. */
    public void committed() {
        emitIfDue();
    }

    /**
     * After a backfill chunk's rows were emitted (at a transaction boundary): emits a state if one is due. Here the
     * state is weighed by its streams alone: a backfill has a bounded number of chunks, so a few streams' state
     * follows each one as the seed's did, however many images set aside it carries meanwhile.
     */
    public void backfillProgressed() {
        emitIfDue(streamsBytes());
    }

    /** At a transaction boundary: emits a state if something moved and the policy says one is due. */
    public void emitIfDue() {
        emitIfDue(stateBytes());
    }

    private void emitIfDue(long weight) {
        if (!positionMoved && !progressMoved) {
            return;
        }
        long now = clock.getAsLong();
        if (policy.due(weight, out.bytesWritten() - bytesAtLastState, recordsSinceState > 0 || progressMoved,
                now - lastEmitNanos)) {
            emit();
        }
    }

    /**
     * The last state of a run: emitted when anything moved since the last one, or records were written after it
     * (they need a state behind them to count as delivered), or the orchestrator has no state yet.
     */
    public void emitFinal() {
        if (positionMoved || progressMoved || recordsSinceState > 0 || !emittedOrKnown) {
            emit();
        }
    }

    /**
     * Every state carries {@code images}: the updates before its position whose row images are not emitted
     * yet (see {@link CaptureState#unsentImages}), so that a run resuming from it still emits them.
     */
    public void carry(java.util.function.Supplier<com.fasterxml.jackson.databind.JsonNode> images) {
        this.unsentImages = images;
    }

    /** Emits the current state now. */
    public void emit() {
        if (encodedStreamStates == null) {
            try {
                encodedStreamStates = Json.MAPPER.writeValueAsString(StateCodec.streamStates(streams));
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new IllegalStateException("cannot encode the streams' progress", e);
            }
            encodedStateBytes = MESSAGE_OVERHEAD_BYTES + encodedStreamStates.length();
        }
        // From the parts, not state(): a CaptureState copies the streams' map, and a state may follow every commit.
        long before = out.bytesWritten();
        out.state(StateCodec.message(position, systemIdentifier, slotName, timeline, unsentImages.get(),
                encodedStreamStates, recordsSinceState));
        lastStateLineBytes = out.bytesWritten() - before;
        recordsSinceState = 0;
        positionMoved = false;
        progressMoved = false;
        emittedOrKnown = true;
        bytesAtLastState = out.bytesWritten();
        lastEmitNanos = clock.getAsLong();
        statesEmitted++;
    }

    /**
     * What a state weighs, for the policy: the size it grows to once every backfill is done (a backfill that
     * starts small must not emit a state per chunk), or its last encoded size when that is larger — the last line
     * written included, whose images set aside (a backlog of updates to rows with unsent TOASTed values can set
     * thousands aside) would otherwise make a few streams' state a megabyte per commit.
     */
    private long stateBytes() {
        return Math.max(streamsBytes(), lastStateLineBytes);
    }

    /** What the streams' part of a state weighs: the size it grows to once every backfill is done, or more. */
    private long streamsBytes() {
        return Math.max(finishedStateBytes, encodedStateBytes);
    }

    /** For tests: the progress per stream, as held. */
    Map<StreamId, StreamProgress> streams() {
        return java.util.Collections.unmodifiableMap(streams);
    }
}
