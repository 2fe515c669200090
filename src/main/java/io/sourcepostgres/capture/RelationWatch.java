package io.sourcepostgres.capture;

import io.sourcepostgres.state.CaptureState;
import io.sourcepostgres.state.StreamProgress;
import io.sourcepostgres.streams.CapturedStreams;
import io.sourcepostgres.airbyte.LogSink;
import io.sourcepostgres.airbyte.LogLevel;
import io.sourcepostgres.airbyte.StreamId;
import io.sourcepostgres.pgoutput.PgOutputMessage;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Watches the Relation messages of captured streams for what changes a table's identity while the capture
 * runs. pgoutput sends a Relation message before the first change of a table in a session, and again after
 * anything invalidated the table's cached description — which includes being dropped from and added back
 * to the publication. So at a Relation message:
 *
 * <ul>
 *   <li>a relation with the stream's name but another oid is a table dropped and recreated (or another
 *       table renamed into the name): the stream's backfill starts over;
 *   <li>a publication membership other than the one recorded means the table left the publication and came
 *       back: the changes in between were never published, so the backfill starts over;
 *   <li>the stream's own table under another name was renamed: its changes keep flowing into the stream
 *       for this run, and a WARN says what to do before the next run, which would not find the name.
 * </ul>
 */
final class RelationWatch {
    private final Map<StreamId, Long> oids = new HashMap<>();
    private final Map<StreamId, String> memberships = new HashMap<>();
    private final Set<Long> renameReported = new HashSet<>();
    private final PublicationMembership membership;
    private final BackfillRestarts restarts;
    private final String publication;
    private final LogSink out;

    RelationWatch(CaptureState start, PublicationMembership membership, BackfillRestarts restarts, String publication,
            LogSink out) {
        for (Map.Entry<StreamId, StreamProgress> e : start.streams().entrySet()) {
            oids.put(e.getKey(), e.getValue().relationOid());
            memberships.put(e.getKey(), e.getValue().publicationMembership());
        }
        this.membership = membership;
        this.restarts = restarts;
        this.publication = publication;
        this.out = out;
    }

    void onRelation(PgOutputMessage.Relation relation, CapturedStreams.Target target) {
        StreamId stream = target.stream();
        Long known = oids.get(stream);
        if (known == null || known == 0) {
            return; // not an incremental stream
        }
        long oid = Integer.toUnsignedLong(relation.relationId());
        boolean sameName = stream.equals(new StreamId(relation.namespace(), relation.name()));
        if (sameName && oid != known && oid == membership.currentOid(stream)) {
            // (A relation of that name whose oid is no longer the table's is the old table's changes being
            // replayed from before it was dropped: they belong to the stream's history as they are.)
            out.log(LogLevel.WARN, "Table " + stream + " was dropped and recreated while captured (relation oid " + known
                    + ", now " + oid + "). Its backfill starts over, so every row it has now is emitted again; rows of "
                    + "the old table that the new one lacks get no delete record. To remove them, clear the stream in "
                    + "the destination (Airbyte: refresh the stream and remove its records).");
            restartAndRecord(stream);
            return;
        }
        if (oid == known && !sameName && renameReported.add(oid)) {
            out.log(LogLevel.WARN, "Table " + stream + " was renamed to " + new StreamId(relation.namespace(),
                    relation.name()) + " while captured: its changes are still emitted as stream " + stream
                    + " in this run, but the next run finds no table of that name and stops. Fix: add "
                    + new StreamId(relation.namespace(), relation.name()) + " to the catalog (it is backfilled) and "
                    + "remove " + stream + ", or rename the table back.");
        }
        if (oid != known) {
            return; // a partition of the stream's table (its membership is the root's), or a replayed old table
        }
        String now = membership.of(oid);
        String before = memberships.get(stream);
        if (before != null && !before.equals(now) && !PublicationMembership.NONE.equals(now)) {
            out.log(LogLevel.WARN, "Table " + stream + " left publication \"" + publication + "\" and was added back "
                    + "while captured: the changes made meanwhile were never published. Its backfill starts over, so "
                    + "every row it has now is emitted again; rows deleted meanwhile get no delete record. To remove "
                    + "them, clear the stream in the destination (Airbyte: refresh the stream and remove its records).");
            restartAndRecord(stream);
            return;
        }
        memberships.put(stream, now);
    }

    private void restartAndRecord(StreamId stream) {
        long oid = restarts.restart(stream);
        if (oid != 0) {
            oids.put(stream, oid);
            memberships.put(stream, membership.of(oid));
        }
    }
}
