package io.sourcepostgres.postgres;

import io.sourcepostgres.airbyte.StreamId;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * What old values PostgreSQL writes to the WAL for a table's UPDATEs and DELETEs, and whether that identifies
 * the rows by a given scan key. An UPDATE carries the old key only when a column of the replica identity
 * changed, and a DELETE carries only the replica identity's columns (under {@code FULL}: every column). So a
 * scan key is exact downstream only when its columns all belong to the replica identity, or the identity is
 * {@code FULL}: otherwise an update that changes the scan key leaves the row under its old key behind, and a
 * delete does not say which scan key it removes.
 *
 * @param table the relation
 * @param kind {@code relreplident}: {@code d} default (primary key), {@code i} index, {@code f} full, {@code n} nothing
 * @param columns the identity's key columns (the primary key's under {@code d}, the index's under {@code i}); empty
 *     under {@code f} and {@code n}
 * @param index the identity index's name under {@code i}; null otherwise
 */
public record ReplicaIdentity(StreamId table, char kind, List<String> columns, String index) {

    public ReplicaIdentity {
        columns = List.copyOf(columns);
    }

    private static final String IDENTITY_COLUMNS = """
            ARRAY(SELECT a.attname
                  FROM pg_catalog.pg_index i
                  CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, pos)
                  JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                  WHERE i.indrelid = c.oid AND k.pos <= i.indnkeyatts
                    AND CASE c.relreplident WHEN 'd' THEN i.indisprimary WHEN 'i' THEN i.indisreplident ELSE false END
                  ORDER BY k.pos)::text[],
            (SELECT ic.relname FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
             WHERE i.indrelid = c.oid AND i.indisreplident AND c.relreplident = 'i')
            """;

    /** Tables per query of {@link #ofTablesAndPartitions}. */
    private static final int BATCH_TABLES = 1000;

    /**
     * Per table oid, the identities of the relations whose changes its stream receives: the table itself, and for a
     * partitioned table also every partition (pgoutput describes a partition's change by the partition's own
     * identity unless the publication publishes via the root). One query per {@value #BATCH_TABLES} tables; a
     * table that no longer exists has no entry.
     */
    public static java.util.Map<Long, List<ReplicaIdentity>> ofTablesAndPartitions(Connection c, List<Long> oids)
            throws SQLException {
        java.util.Map<Long, List<ReplicaIdentity>> identities = new java.util.HashMap<>();
        // The table itself, then what pg_partition_tree lists: nothing for an ordinary table, the root again and its
        // partitions for a partitioned one.
        String sql = "SELECT r.oid::int8, n.nspname, c.relname, c.relreplident, " + IDENTITY_COLUMNS
                + " FROM unnest(?::int8[]) AS r(oid)"
                + " CROSS JOIN LATERAL (SELECT r.oid::oid AS relid, 0 AS ord"
                + "   UNION SELECT t.relid, 1 FROM pg_catalog.pg_partition_tree(r.oid::oid) t WHERE t.relid <> r.oid::oid) m"
                + " JOIN pg_catalog.pg_class c ON c.oid = m.relid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
                + " WHERE c.relkind IN ('r', 'p') OR m.ord = 0 ORDER BY r.oid, m.ord, c.oid";
        for (int from = 0; from < oids.size(); from += BATCH_TABLES) {
            List<Long> batch = oids.subList(from, Math.min(oids.size(), from + BATCH_TABLES));
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setArray(1, c.createArrayOf("int8", batch.toArray(Long[]::new)));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        identities.computeIfAbsent(rs.getLong(1), k -> new ArrayList<>()).add(read(rs, 1));
                    }
                }
            }
        }
        return identities;
    }

    /**
     * The published tables whose primary key (the scan key a stream uses unless its catalog names another) is
     * not covered by a {@code REPLICA IDENTITY USING INDEX} on other columns: what {@code check} reports.
     */
    public static List<Problem> primaryKeysOutsideIdentity(Connection c, String publication) throws SQLException {
        List<Problem> problems = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT n.nspname, c.relname, c.relreplident, " + IDENTITY_COLUMNS
                + ", ARRAY(SELECT a.attname FROM pg_catalog.pg_index i"
                + "   CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, pos)"
                + "   JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum"
                + "   WHERE i.indrelid = c.oid AND i.indisprimary AND k.pos <= i.indnkeyatts ORDER BY k.pos)::text[]"
                + " FROM pg_catalog.pg_publication_tables pt"
                + " JOIN pg_catalog.pg_namespace n ON n.nspname = pt.schemaname"
                + " JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = pt.tablename"
                + " WHERE pt.pubname = ? AND c.relreplident = 'i' ORDER BY 1, 2")) {
            ps.setString(1, publication);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    ReplicaIdentity identity = read(rs);
                    List<String> primaryKey = List.of((String[]) rs.getArray(6).getArray());
                    if (!primaryKey.isEmpty()) {
                        identity.scanKeyProblem(primaryKey, false).ifPresent(problems::add);
                    }
                }
            }
        }
        return problems;
    }

    /**
     * Why rows identified by {@code scanKey} would diverge downstream under this identity; empty when the
     * identity is {@code FULL} (every old value is sent), covers every scan key column, or is {@code NOTHING}
     * (then PostgreSQL refuses the table's UPDATEs and DELETEs while it is published, reported elsewhere).
     *
     * @param fromCatalog whether the scan key is a catalog's {@code primary_key} rather than the table's own
     */
    public Optional<Problem> scanKeyProblem(List<String> scanKey, boolean fromCatalog) {
        if (kind == 'f' || kind == 'n' || (kind == 'd' && columns.isEmpty())) {
            return Optional.empty();
        }
        if (new HashSet<>(columns).containsAll(scanKey)) {
            return Optional.empty();
        }
        String identity = kind == 'i' ? "REPLICA IDENTITY USING INDEX " + Sql.identifier(index) + " on " + list(columns)
                : "the default replica identity, its primary key " + list(columns);
        String key = (fromCatalog ? "the catalog's primary_key " : "its primary key ") + list(scanKey);
        String fix = "Run ALTER TABLE " + table.quoted() + " REPLICA IDENTITY FULL; (every old value is then logged"
                + " and the key is exact)"
                + (kind == 'i' ? ", or ALTER TABLE " + table.quoted() + " REPLICA IDENTITY DEFAULT; when the primary"
                        + " key is the scan key" : "")
                + (fromCatalog || kind == 'i' ? ", or set the stream's primary_key in the catalog to "
                        + list(columns) : "") + ".";
        return Optional.of(new Problem("Table " + table.quoted() + " identifies its rows by " + key + ", but PostgreSQL"
                + " logs old values by " + identity + ": an UPDATE that changes " + list(scanKey) + " would leave the row"
                + " under its old key behind downstream, and a DELETE would not say which key it removes", fix));
    }

    private static ReplicaIdentity read(ResultSet rs) throws SQLException {
        return read(rs, 0);
    }

    /** The identity in the columns after the first {@code skip} of {@code rs}. */
    private static ReplicaIdentity read(ResultSet rs, int skip) throws SQLException {
        Array columns = rs.getArray(skip + 4);
        return new ReplicaIdentity(new StreamId(rs.getString(skip + 1), rs.getString(skip + 2)),
                rs.getString(skip + 3).charAt(0), List.of((String[]) columns.getArray()), rs.getString(skip + 5));
    }

    private static String list(List<String> columns) {
        return columns.stream().map(Sql::identifier).collect(Collectors.joining(", ", "(", ")"));
    }
}
