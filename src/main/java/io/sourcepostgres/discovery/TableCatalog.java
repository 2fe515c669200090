package io.sourcepostgres.discovery;

import io.sourcepostgres.airbyte.ConnectorException;
import io.sourcepostgres.airbyte.StreamId;
import io.sourcepostgres.postgres.SqlFailures;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * An in-memory snapshot of the capturable tables of one database: for each stream its columns with their
 * resolved types, its primary key, partitions and publication membership, as they were at one moment.
 * {@code discover} turns it into the Airbyte catalog; {@code read} looks streams and relations up in it.
 */
public final class TableCatalog {
    private final List<DiscoveredTable> tables;
    private final Map<StreamId, DiscoveredTable> byStream = new HashMap<>();
    private final Map<Long, DiscoveredTable> byRelation = new HashMap<>();
    private final PublicationInfo publication;
    private final String user;
    private final int serverMajorVersion;

    TableCatalog(List<DiscoveredTable> tables, PublicationInfo publication, String user, int serverMajorVersion) {
        this.tables = tables.stream().sorted(Comparator.comparing(DiscoveredTable::id)).toList();
        this.publication = publication;
        this.user = user;
        this.serverMajorVersion = serverMajorVersion;
        for (DiscoveredTable t : this.tables) {
            byStream.put(t.id(), t);
            byRelation.put(t.oid(), t);
            t.partitions().forEach(p -> byRelation.put(p.oid(), t));
        }
    }

    /**
     * Reads every capturable table of the connection's database. On a connection in autocommit mode the
     * catalog is read in a repeatable-read transaction of its own, so that all its parts describe the same
     * moment; inside the caller's transaction it shares that transaction's snapshot and leaves it open.
     */
    public static TableCatalog read(Connection connection, String publicationName) {
        return read(connection, publicationName, null);
    }

    /**
     * Reads only the tables of {@code streams} (those that exist; look the others up to report them), so
     * that a capture of a few tables in a database of thousands reads little. Null reads every table.
     */
    public static TableCatalog read(Connection connection, String publicationName, Collection<StreamId> streams) {
        try {
            return CatalogReader.read(connection, publicationName, streams);
        } catch (SQLException e) {
            throw failure(e);
        }
    }

    /** The tables, sorted by namespace then name. */
    public List<DiscoveredTable> tables() {
        return tables;
    }

    public Optional<DiscoveredTable> table(StreamId stream) {
        return Optional.ofNullable(byStream.get(stream));
    }

    /**
     * The table whose stream a relation's changes belong to: the table itself, or for a partition (pgoutput
     * names partitions unless the publication publishes via the root) its partitioned table.
     */
    public Optional<DiscoveredTable> tableOfRelation(long relationOid) {
        return Optional.ofNullable(byRelation.get(relationOid));
    }

    public PublicationInfo publication() {
        return publication;
    }

    /** The role the catalog was read as ({@code current_user}), whose privileges the tables report. */
    public String user() {
        return user;
    }

    public int serverMajorVersion() {
        return serverMajorVersion;
    }

    private static ConnectorException failure(SQLException e) {
        return SqlFailures.failure("Reading the table catalog", e, SqlFailures.causeOf(e) == SqlFailures.Cause.TIMED_OUT
                ? "Retry, or raise statement_timeout_seconds if the catalog is very large." : null);
    }
}
