package io.sourcepostgres.capture;

import io.sourcepostgres.airbyte.StreamId;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a run resumes from: the replication position, the server and slot it belongs to, and each
 * stream's backfill progress. Immutable; the capture makes a new one at every checkpoint.
 *
 * @param position LSN up to which every committed change of the captured streams has been emitted
 *     (exclusive of transactions committing later); replication restarts here
 * @param systemIdentifier the cluster's {@code pg_control_system().system_identifier}
 * @param slotName the replication slot the position belongs to
 * @param streams per stream, its backfill progress
 */
public record CaptureState(long position, String systemIdentifier, String slotName, Map<StreamId, StreamProgress> streams) {

    public CaptureState {
        streams = java.util.Collections.unmodifiableMap(new TreeMap<>(streams));
    }

    public CaptureState withPosition(long newPosition) {
        return new CaptureState(newPosition, systemIdentifier, slotName, streams);
    }

    public CaptureState withStream(StreamId stream, StreamProgress progress) {
        Map<StreamId, StreamProgress> copy = new TreeMap<>(streams);
        copy.put(stream, progress);
        return new CaptureState(position, systemIdentifier, slotName, copy);
    }

    public CaptureState withStreams(Map<StreamId, StreamProgress> newStreams) {
        return new CaptureState(position, systemIdentifier, slotName, newStreams);
    }
}
