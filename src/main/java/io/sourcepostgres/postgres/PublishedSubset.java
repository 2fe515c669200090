package io.sourcepostgres.postgres;

import io.sourcepostgres.airbyte.ConnectorException;
import io.sourcepostgres.airbyte.StreamId;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;

/**
 * The part of a table a publication publishes (PostgreSQL 15+): its row filter ({@code FOR TABLE t WHERE
 * (...)}) and its column list ({@code FOR TABLE t (a, b)}). Replication sends only those rows and columns, so a
 * backfill must read the same subset, or the destination would hold rows and values that replication never
 * updates or deletes. Per the PostgreSQL documentation, an UPDATE that moves a row out of the filter is sent as a
 * DELETE and one that moves it in as an INSERT, so the filtered rows stay exact downstream.
 *
 * @param rowFilter the filter as the server deparses it ({@code pg_publication_tables.rowfilter}), without the
 *     surrounding parentheses; null when the table has none
 * @param columns the published columns when the publication names a column list; null when it publishes all
 */
public record PublishedSubset(String rowFilter, List<String> columns) {
    public static final PublishedSubset ALL = new PublishedSubset(null, null);

    public PublishedSubset {
        columns = columns == null ? null : List.copyOf(columns);
    }

    public boolean isAll() {
        return rowFilter == null && columns == null;
    }

    public boolean publishes(String column) {
        return columns == null || columns.contains(column);
    }

    /**
     * What {@code publication} publishes of the table with this oid. A partitioned table whose partitions or root
     * carry a row filter or column list is refused: its partitions may each filter differently, and which applies
     * depends on publish_via_partition_root.
     */
    public static PublishedSubset of(Connection c, String publication, StreamId table, long oid, boolean partitioned)
            throws SQLException {
        if (c.getMetaData().getDatabaseMajorVersion() < 15) {
            return ALL; // row filters and column lists arrived in PostgreSQL 15
        }
        if (partitioned) {
            if (partitionsFiltered(c, publication, oid)) {
                throw ConnectorException.config("Publication " + Sql.identifier(publication) + " publishes partitioned table "
                        + table.quoted() + " (or its partitions) with a row filter or a column list, which the connector"
                        + " cannot backfill exactly. Publish the table without them: ALTER PUBLICATION "
                        + Sql.identifier(publication) + " SET TABLE " + table.quoted() + "; (or capture the partitions"
                        + " as streams of their own).");
            }
            return ALL;
        }
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT pt.rowfilter, CASE WHEN pr.prattrs IS NOT NULL THEN pt.attnames::text[] END
                FROM pg_catalog.pg_publication_tables pt
                JOIN pg_catalog.pg_publication p ON p.pubname = pt.pubname
                LEFT JOIN pg_catalog.pg_publication_rel pr ON pr.prpubid = p.oid AND pr.prrelid = ?::oid
                WHERE pt.pubname = ? AND pt.schemaname = ? AND pt.tablename = ?
                """)) {
            ps.setLong(1, oid);
            ps.setString(2, publication);
            ps.setString(3, table.namespace());
            ps.setString(4, table.name());
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return ALL;
                }
                String filter = rs.getString(1);
                java.sql.Array attnames = rs.getArray(2);
                return new PublishedSubset(filter,
                        attnames == null ? null : List.of((String[]) attnames.getArray()));
            }
        }
    }

    /** A table whose published subset {@link #ofAll} reads. */
    public record Table(StreamId id, long oid, boolean partitioned) {}

    /**
     * As {@link #of} for many tables with one catalog query for all the ordinary ones, rather than one each: the
     * {@code pg_publication_tables} view lists every table of the publication on each use (for a {@code FOR ALL
     * TABLES} publication, every table of the database), so a query per table grows with the square of their count.
     * Partitioned tables are checked one by one as {@link #of} does (they are few, and refused when filtered).
     *
     * @return per table oid, what the publication publishes of it ({@link #ALL} when it is not in the publication)
     */
    public static java.util.Map<Long, PublishedSubset> ofAll(Connection c, String publication, List<Table> tables)
            throws SQLException {
        java.util.Map<Long, PublishedSubset> subsets = new java.util.HashMap<>();
        List<Table> ordinary = new java.util.ArrayList<>();
        for (Table t : tables) {
            if (t.partitioned() || c.getMetaData().getDatabaseMajorVersion() < 15) {
                subsets.put(t.oid(), of(c, publication, t.id(), t.oid(), t.partitioned()));
            } else {
                ordinary.add(t);
            }
        }
        if (ordinary.isEmpty()) {
            return subsets;
        }
        // The view is read once (MATERIALIZED), then matched by name as of() does, and the column list's entry by oid.
        try (PreparedStatement ps = c.prepareStatement("""
                WITH pt AS MATERIALIZED (
                    SELECT schemaname, tablename, rowfilter, attnames::text[] AS attnames
                    FROM pg_catalog.pg_publication_tables WHERE pubname = ?)
                SELECT r.oid::int8, pt.rowfilter, CASE WHEN pr.prattrs IS NOT NULL THEN pt.attnames END
                FROM unnest(?::text[], ?::text[], ?::int8[]) AS r(schemaname, tablename, oid)
                JOIN pt ON pt.schemaname = r.schemaname AND pt.tablename = r.tablename
                JOIN pg_catalog.pg_publication p ON p.pubname = ?
                LEFT JOIN pg_catalog.pg_publication_rel pr ON pr.prpubid = p.oid AND pr.prrelid = r.oid::oid
                """)) {
            ps.setString(1, publication);
            ps.setArray(2, c.createArrayOf("text", ordinary.stream().map(t -> t.id().namespace()).toArray()));
            ps.setArray(3, c.createArrayOf("text", ordinary.stream().map(t -> t.id().name()).toArray()));
            ps.setArray(4, c.createArrayOf("int8", ordinary.stream().map(Table::oid).toArray()));
            ps.setString(5, publication);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    java.sql.Array attnames = rs.getArray(3);
                    subsets.put(rs.getLong(1), new PublishedSubset(rs.getString(2),
                            attnames == null ? null : List.of((String[]) attnames.getArray())));
                }
            }
        }
        for (Table t : ordinary) {
            subsets.putIfAbsent(t.oid(), ALL); // not in the publication: as of() says
        }
        return subsets;
    }

    /** Why a stream keyed by {@code scanKey} cannot be captured from this subset; empty when it can. */
    public Optional<Problem> scanKeyProblem(StreamId table, String publication, List<String> scanKey) {
        List<String> missing = scanKey.stream().filter(k -> !publishes(k)).toList();
        if (missing.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new Problem("Publication " + Sql.identifier(publication) + " publishes only the columns "
                + columns + " of table " + table.quoted() + ", without its key columns " + missing
                + ", so replicated rows could not be told apart",
                "Add the key columns to the column list (ALTER PUBLICATION " + Sql.identifier(publication)
                        + " SET TABLE " + table.quoted() + " (...);) or set the stream's primary_key in the catalog to"
                        + " published columns."));
    }

    private static boolean partitionsFiltered(Connection c, String publication, long oid) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT EXISTS (
                    SELECT 1 FROM pg_catalog.pg_publication_rel pr
                    JOIN pg_catalog.pg_publication p ON p.oid = pr.prpubid
                    WHERE p.pubname = ? AND (pr.prattrs IS NOT NULL OR pr.prqual IS NOT NULL)
                      AND pr.prrelid IN (SELECT relid FROM pg_catalog.pg_partition_tree(?::oid)
                                         UNION SELECT relid FROM pg_catalog.pg_partition_ancestors(?::oid)))
                """)) {
            ps.setString(1, publication);
            ps.setLong(2, oid);
            ps.setLong(3, oid);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }
}
