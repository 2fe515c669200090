package io.sourcepostgres.postgres;

import io.sourcepostgres.pgoutput.Lsn;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.OptionalLong;

/**
 * Where this server's WAL history stands, as its walsender tells it ({@code IDENTIFY_SYSTEM} on a replication
 * connection, the same on a primary and on a standby): the timeline it writes or replays, and the end of the WAL
 * it can stream. A server restored from a backup or a copy of its data directory, or a standby promoted before it
 * replayed everything, shares the system identifier of the server a state came from but not its history: its WAL
 * ends before the state's position, or it left the state's timeline before that position (a promotion and a
 * point-in-time recovery both start a new timeline, whose history file records where it branched off).
 *
 * @param timeline the current timeline id
 * @param walEnd the end of the WAL the server has flushed (a standby: received and flushed); nothing the
 *     connector ever read lies beyond it on the same history
 */
public record ServerHistory(int timeline, long walEnd) {

    /** Asks the walsender behind a replication connection (replication=database); nothing is streamed. */
    public static ServerHistory identify(Connection replication) throws SQLException {
        try (Statement st = replication.createStatement(); ResultSet rs = st.executeQuery("IDENTIFY_SYSTEM")) {
            if (!rs.next()) {
                throw new SQLException("IDENTIFY_SYSTEM returned no row");
            }
            return new ServerHistory(Integer.parseInt(rs.getString("timeline")), Lsn.parse(rs.getString("xlogpos")));
        }
    }

    /**
     * The position at which timeline {@code ancestor} ended and this server's history branched off it to a later
     * timeline; empty when {@code ancestor} is not in this server's history at all. Only for an ancestor below the
     * current timeline: the current one has no end yet.
     */
    public OptionalLong branchPoint(Connection replication, int ancestor) throws SQLException {
        if (ancestor >= timeline || ancestor < 1) {
            return OptionalLong.empty();
        }
        String content;
        try (Statement st = replication.createStatement();
                ResultSet rs = st.executeQuery("TIMELINE_HISTORY " + timeline)) {
            if (!rs.next()) {
                return OptionalLong.empty();
            }
            // The walsender sends the history file's bytes as they are, in the text column's place.
            content = rs.getString(2);
        }
        return branchPoint(content, ancestor);
    }

    /**
     * Reads a timeline history file: one line per ancestor timeline, {@code <tli> <switchpoint> <reason>} separated
     * by tabs, oldest first; {@code #} starts a comment.
     */
    static OptionalLong branchPoint(String historyFile, int ancestor) {
        for (String line : historyFile.split("\n")) {
            String trimmed = line.strip();
            if (trimmed.isEmpty() || trimmed.startsWith("#")) {
                continue;
            }
            String[] fields = trimmed.split("\\s+");
            if (fields.length >= 2 && fields[0].equals(Integer.toString(ancestor))) {
                return OptionalLong.of(Lsn.parse(fields[1]));
            }
        }
        return OptionalLong.empty();
    }
}
