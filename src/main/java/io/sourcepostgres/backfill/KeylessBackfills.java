package io.sourcepostgres.backfill;

import io.sourcepostgres.state.Checkpoints;
import io.sourcepostgres.state.StreamProgress;
import com.fasterxml.jackson.databind.JsonNode;
import io.sourcepostgres.airbyte.LogSink;
import io.sourcepostgres.airbyte.ConnectorException;
import io.sourcepostgres.airbyte.LogLevel;
import io.sourcepostgres.airbyte.StreamId;
import io.sourcepostgres.pgoutput.Lsn;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The phases of the streams backfilled without a key, and the cut that keeps their backfill and their change
 * events apart. Such a table's rows cannot be matched with the changes that raced a chunk (nothing identifies
 * a row), and its records are an append-only history, where a row emitted twice counts twice. So instead of
 * fencing each chunk, the stream has one cut, a {@link KeylessStart} taken before any of its changes is
 * handled (when its backfill starts, before replication delivers anything in that run) and kept in its state:
 *
 * <ul>
 *   <li>a change by a transaction the cut includes is not emitted: the table the backfill reads already
 *       holds its effect;
 *   <li>a change by any other transaction is emitted, and the row versions it created ({@code xmin}) are left
 *       out of the backfill.
 * </ul>
 *
 * Every row version is thus emitted once: by the backfill if the cut includes its creator and it still exists
 * when its page is read, else by the change that created it. A version the cut includes that is updated or
 * deleted before its page is read reaches the history only through that update or delete.
 *
 * <p>Phases: set {@code BACKFILLING} with the cut and page 0 by {@link #start} when the stream has no cut; moved
 * to the next page after every chunk; when the last chunk is out, a fence is written ({@link #finished}), and the
 * stream becomes {@code ACTIVE} once replication has passed it ({@link #reached}): only then has every
 * transaction the cut includes gone by, so a restart from an active state cannot replay one of them unfiltered.
 */
public final class KeylessBackfills {
    private final MergeFences fences;
    private final Checkpoints checkpoints;
    private final LogSink out;
    private final Map<StreamId, KeylessStart> cuts = new HashMap<>();
    private final Map<StreamId, Long> activations = new LinkedHashMap<>();

    KeylessBackfills(MergeFences fences, Checkpoints checkpoints, LogSink out) {
        this.fences = fences;
        this.checkpoints = checkpoints;
        this.out = out;
    }

    /** Sets up the stream's cut: the one its state keeps, or a new one (then the backfill starts at page 0). */
    void start(BackfillStream stream) {
        StreamProgress progress = checkpoints.progressOf(stream.id);
        CtidChunkReader.Position position = null;
        if (progress != null && CtidChunkReader.Position.is(progress.resumeAfter())) {
            position = CtidChunkReader.Position.of(progress.resumeAfter(), stream.plan.table());
        } else if (progress != null && progress.resumeAfter() != null) {
            // The table lost its primary key while it was being backfilled by it: start over without one.
            out.log(LogLevel.WARN, "Table " + stream.id + " has no primary key any more, but its backfill was "
                    + "running by one: it starts over by physical location, so rows backfilled so far are emitted "
                    + "again. For a clean history, reset the stream.");
        }
        if (position == null || position.start() == null) {
            KeylessStart cut = fences.keylessCut(stream.plan.serverMajorVersion());
            position = new CtidChunkReader.Position(0, 0, -1, cut);
            checkpoints.progress(stream.id, current(stream.id).backfilledTo(position.toJson(), 0, null));
            out.log(LogLevel.INFO, "Table " + stream.id + " has no primary key: backfilling it by physical location "
                    + "(ctid pages) as an append-only history; its changes from transactions that committed after "
                    + "snapshot " + cut.snapshotText() + " are emitted as they arrive.");
        }
        cuts.put(stream.id, position.start());
    }

    boolean suppresses(StreamId stream, int xid) {
        KeylessStart cut = cuts.get(stream);
        return cut != null && cut.includesTransaction(Integer.toUnsignedLong(xid));
    }

    /** The last chunk of the stream is out: it turns active once replication passes a fence written now. */
    void finished(BackfillStream stream, JsonNode resumeAfter, long rowsDone) {
        long fence;
        try {
            fence = fences.writeFence();
        } catch (SQLException e) {
            throw ConnectorException.transientError("Writing a backfill fence failed: " + e.getMessage(), e);
        }
        activations.put(stream.id, fence);
        checkpoints.progress(stream.id, current(stream.id).backfilledTo(resumeAfter, rowsDone, null));
    }

    /** The stream's progress so far: transitions keep what it records of the table's identity. */
    private StreamProgress current(StreamId stream) {
        StreamProgress p = checkpoints.progressOf(stream);
        return p != null ? p : StreamProgress.PENDING;
    }

    boolean activating() {
        return !activations.isEmpty();
    }

    /** Replication is at {@code position}, between transactions: activates the streams whose fence it passed. */
    boolean reached(long position) {
        boolean changed = false;
        for (Iterator<Map.Entry<StreamId, Long>> it = activations.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<StreamId, Long> e = it.next();
            if (Lsn.compare(position, e.getValue()) >= 0) {
                it.remove();
                cuts.remove(e.getKey());
                checkpoints.progress(e.getKey(), current(e.getKey()).completed());
                changed = true;
            }
        }
        return changed;
    }
}
