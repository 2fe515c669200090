package io.sourcepostgres.capture;

import io.sourcepostgres.state.CaptureState;
import io.sourcepostgres.state.StreamProgress;
import io.sourcepostgres.streams.CapturedStreams;
import io.sourcepostgres.airbyte.LogSink;
import io.sourcepostgres.airbyte.LogLevel;
import io.sourcepostgres.airbyte.StreamId;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Decides, at the start of a run, where each incremental stream starts: from its progress in the state, or
 * from its first row. A stream starts over when the state has no progress for it (the orchestrator reset
 * it — a null {@code stream_state} — or it is new in the catalog), when the table behind its name is not the
 * one the state was taken from (dropped and recreated: another relation oid), or when the table left the
 * publication and came back since (its {@link PublicationMembership} token changed: what was written
 * meanwhile was never published). Every other stream keeps streaming from the shared position. The state is
 * then stamped with each table's oid and membership, so that the next run can tell.
 */
final class StreamStarts {
    private StreamStarts() {}

    /**
     * @param state the start state, each incremental stream's progress taken from the input state (PENDING
     *     when it had none)
     * @param given the input state's own stream progress (empty without a state)
     */
    static CaptureState identify(CaptureState state, Map<StreamId, StreamProgress> given, boolean hadState,
            CapturedStreams captured, PublicationMembership membership, String publication, LogSink out) {
        Map<StreamId, StreamProgress> streams = new LinkedHashMap<>();
        Map<Long, String> tokens = membership.ofAll(state.streams().keySet().stream()
                .map(id -> captured.targets().get(id).table().oid()).distinct().toList());
        for (Map.Entry<StreamId, StreamProgress> e : state.streams().entrySet()) {
            StreamId id = e.getKey();
            StreamProgress p = e.getValue();
            CapturedStreams.Target target = captured.targets().get(id);
            long oid = target.table().oid();
            String token = tokens.get(oid);
            if (hadState && given.get(id) == null) {
                out.log(LogLevel.INFO, "Stream " + id + " has no progress in the state (reset by the orchestrator, or new "
                        + "in the catalog): it is backfilled from its first row while the other streams keep streaming");
            } else if (p.phase() != StreamProgress.Phase.PENDING && p.relationOid() != 0 && p.relationOid() != oid) {
                out.log(LogLevel.WARN, "Table " + id + " is not the table the state was taken from (relation oid "
                        + p.relationOid() + ", now " + oid + "): it was dropped and recreated, or another table took its "
                        + "name. Its backfill starts over, so every row it has now is emitted again; rows of the old "
                        + "table that the new one lacks get no delete record. To remove them, clear the stream in the "
                        + "destination (Airbyte: refresh the stream and remove its records).");
                p = p.restarted();
            } else if (p.phase() != StreamProgress.Phase.PENDING && p.publicationMembership() != null
                    && !p.publicationMembership().equals(token) && !PublicationMembership.NONE.equals(token)) {
                out.log(LogLevel.WARN, "Table " + id + " left publication \"" + publication + "\" and was added back "
                        + "since the state was taken: the changes made meanwhile were never published. Its backfill "
                        + "starts over, so every row it has now is emitted again; rows deleted meanwhile get no delete "
                        + "record. To remove them, clear the stream in the destination (Airbyte: refresh the stream and "
                        + "remove its records).");
                p = p.restarted();
            }
            streams.put(id, p.of(oid, token));
        }
        return state.withStreams(streams);
    }
}
