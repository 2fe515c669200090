package io.sourcepostgres.state;

import io.sourcepostgres.airbyte.ConnectorException;
import io.sourcepostgres.pgoutput.Lsn;
import io.sourcepostgres.postgres.ServerHistory;
import java.sql.SQLException;
import java.util.OptionalLong;

/**
 * Refuses a state taken on another history of the same cluster (same system identifier): a point-in-time restore,
 * a restored copy of the data directory, a standby promoted before it had replayed the state's position. Trusting
 * such a state would skip the changes this server wrote since the histories parted, and would confirm the slot
 * to a position beyond the server's own WAL. A state without a recorded timeline (written before the connector
 * recorded it) is still checked against the end of the WAL.
 */
public final class HistoryCheck {
    /** The branch point of an ancestor timeline, asked of the server only when needed. */
    public interface BranchPoints {
        OptionalLong of(int ancestor) throws SQLException;
    }

    private HistoryCheck() {}

    public static void check(CaptureState state, ServerHistory server, BranchPoints branchPoints) throws SQLException {
        String reset = " To recover, reset the connection (start without state): every stream is then backfilled from"
                + " this server. If the connection points at the wrong server (e.g. a replica left behind), point it at"
                + " the server the state came from instead.";
        if (Lsn.compare(state.position(), server.walEnd()) > 0) {
            throw ConnectorException.config("The state's position " + Lsn.format(state.position()) + " lies beyond the end"
                    + " of this server's WAL (" + Lsn.format(server.walEnd()) + ", timeline " + server.timeline() + "):"
                    + " the server has the same system identifier but not the history the state was taken from. It was"
                    + " restored from a backup or a copy of its data directory, or it is a standby promoted before it had"
                    + " replayed that far; the changes the state covers beyond " + Lsn.format(server.walEnd())
                    + " never happened here, and resuming would skip the changes this server writes up to the state's"
                    + " position. The slot is left as it is." + reset);
        }
        int stateTimeline = state.timeline();
        if (stateTimeline == 0 || stateTimeline == server.timeline()) {
            return;
        }
        OptionalLong branch = branchPoints.of(stateTimeline);
        if (branch.isEmpty()) {
            throw ConnectorException.config("The state was taken on WAL timeline " + stateTimeline + ", which is not in the"
                    + " history of this server (timeline " + server.timeline() + "): the server was restored from a backup"
                    + " taken before that timeline began, or it is another branch of the cluster's history, so the state's"
                    + " position " + Lsn.format(state.position()) + " means other changes here." + reset);
        }
        if (Lsn.compare(state.position(), branch.getAsLong()) > 0) {
            throw ConnectorException.config("This server left WAL timeline " + stateTimeline + " at "
                    + Lsn.format(branch.getAsLong()) + " (a promotion or a point-in-time recovery started timeline "
                    + server.timeline() + " there), but the state was taken at " + Lsn.format(state.position())
                    + " on timeline " + stateTimeline + ": the changes between the two never happened on this server,"
                    + " and resuming would skip the changes it wrote after " + Lsn.format(branch.getAsLong()) + "."
                    + reset);
        }
    }
}
