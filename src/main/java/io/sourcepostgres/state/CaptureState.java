package io.sourcepostgres.state;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcepostgres.airbyte.StreamId;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * What a run resumes from: the replication position, the server and slot it belongs to, and each
 * stream's backfill progress. Immutable; the capture makes a new one at every checkpoint. A new position
 * shares the streams' progress with the state it came from (a commit moves the position, rarely anything
 * else), so that the progress is neither copied nor compared nor encoded again per commit.
 */
public final class CaptureState {
    private final long position;
    private final String systemIdentifier;
    private final String slotName;
    private final int timeline;
    private final Map<StreamId, StreamProgress> streams;
    private final JsonNode unsentImages;

    /**
     * @param position LSN up to which every committed change of the captured streams has been emitted
     *     (exclusive of transactions committing later); replication restarts here
     * @param systemIdentifier the cluster's {@code pg_control_system().system_identifier}
     * @param slotName the replication slot the position belongs to
     * @param streams per stream, its backfill progress
     */
    public CaptureState(long position, String systemIdentifier, String slotName, Map<StreamId, StreamProgress> streams) {
        this(position, systemIdentifier, slotName, 0, streams);
    }

    /**
     * @param timeline the server's WAL timeline the position lies on; 0 when unknown (a state written before the
     *     connector recorded it)
     */
    public CaptureState(long position, String systemIdentifier, String slotName, int timeline,
            Map<StreamId, StreamProgress> streams) {
        this.position = position;
        this.systemIdentifier = systemIdentifier;
        this.slotName = slotName;
        this.timeline = timeline;
        this.streams = Collections.unmodifiableMap(new TreeMap<>(streams));
        this.unsentImages = null;
    }

    private CaptureState(CaptureState from, JsonNode unsentImages) {
        this.position = from.position;
        this.systemIdentifier = from.systemIdentifier;
        this.slotName = from.slotName;
        this.timeline = from.timeline;
        this.streams = from.streams;
        this.unsentImages = unsentImages == null || unsentImages.isEmpty() ? null : unsentImages;
    }

    /** {@code from} at another position, sharing its streams' progress. */
    private CaptureState(CaptureState from, long position) {
        this.position = position;
        this.systemIdentifier = from.systemIdentifier;
        this.slotName = from.slotName;
        this.timeline = from.timeline;
        this.streams = from.streams;
        this.unsentImages = from.unsentImages;
    }

    public long position() {
        return position;
    }

    public String systemIdentifier() {
        return systemIdentifier;
    }

    public String slotName() {
        return slotName;
    }

    /** The WAL timeline the position lies on; 0 when the state does not say. */
    public int timeline() {
        return timeline;
    }

    /** Per stream, its backfill progress, in stream order; the same instance across {@link #withPosition}. */
    public Map<StreamId, StreamProgress> streams() {
        return streams;
    }

    /**
     * Updates committed before the position whose row images are not emitted yet: each waited for an unchanged
     * TOASTed value that could not yet be read exactly ({@code capture.UnsentToastValues}). A JSON array of
     * {@code {"namespace", "stream", "key": [text, ...], "lsn", "time"}}; null when there are none.
     */
    public JsonNode unsentImages() {
        return unsentImages;
    }

    public CaptureState withUnsentImages(JsonNode images) {
        return java.util.Objects.equals(images, unsentImages) ? this : new CaptureState(this, images);
    }

    public CaptureState withPosition(long newPosition) {
        return new CaptureState(this, newPosition);
    }

    public CaptureState withStream(StreamId stream, StreamProgress progress) {
        Map<StreamId, StreamProgress> copy = new TreeMap<>(streams);
        copy.put(stream, progress);
        return new CaptureState(position, systemIdentifier, slotName, timeline, copy).withUnsentImages(unsentImages);
    }

    public CaptureState withStreams(Map<StreamId, StreamProgress> newStreams) {
        return new CaptureState(position, systemIdentifier, slotName, timeline, newStreams).withUnsentImages(unsentImages);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CaptureState s && position == s.position && Objects.equals(systemIdentifier, s.systemIdentifier)
                && Objects.equals(slotName, s.slotName) && timeline == s.timeline && (streams == s.streams || streams.equals(s.streams))
                && Objects.equals(unsentImages, s.unsentImages);
    }

    @Override
    public int hashCode() {
        return Objects.hash(position, systemIdentifier, slotName, streams);
    }

    @Override
    public String toString() {
        return "CaptureState[position=" + position + ", systemIdentifier=" + systemIdentifier + ", slotName=" + slotName
                + ", timeline=" + timeline + ", streams=" + streams + "]";
    }
}
