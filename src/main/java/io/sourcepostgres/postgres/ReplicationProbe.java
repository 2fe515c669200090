package io.sourcepostgres.postgres;

import io.sourcepostgres.airbyte.ConnectorException;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Optional;
import org.postgresql.jdbc.PgConnection;

/**
 * Opens the kind of connection a read streams from (a walsender, replication=database) and asks it
 * IDENTIFY_SYSTEM. The catalog cannot tell everything: a managed service's role may look privileged and still be
 * refused, or every WAL sender may be taken. This asks the server itself.
 */
public final class ReplicationProbe {
    private ReplicationProbe() {}

    /** Empty when a replication connection opens and answers; the reason otherwise. */
    public static Optional<Problem> problem(PgConnections connections) {
        PgConnection c;
        try {
            c = connections.openReplication();
        } catch (ConnectorException e) {
            return Optional.of(new Problem("A replication connection (what a read streams from) failed: "
                    + e.getMessage(), ""));
        }
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("IDENTIFY_SYSTEM")) {
            rs.next();
            return Optional.empty();
        } catch (SQLException e) {
            return Optional.of(new Problem("A replication connection (what a read streams from) opened, but"
                    + " IDENTIFY_SYSTEM failed: " + e.getMessage(),
                    "Check that the server allows logical replication connections for this user and database."));
        } finally {
            PgConnections.closeQuietly(c);
        }
    }
}
