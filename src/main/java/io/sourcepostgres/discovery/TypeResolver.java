package io.sourcepostgres.discovery;

import io.sourcepostgres.values.PgType;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Resolves type oids into {@link PgType}s with one query: the types asked for plus, recursively, the
 * element types of arrays and the base types of domains, with enum labels in sort order.
 */
final class TypeResolver {
    /*
     * An array is a base type printed by array_out. typelem alone is not enough: name, point, box and
     * int2vector have one too, but their text output is not an array literal.
     */
    private static final String IS_ARRAY = "(t.typtype = 'b' AND t.typelem <> 0 AND t.typoutput = 'array_out'::regproc)";

    private static final String SQL = """
            WITH RECURSIVE wanted(oid) AS (
                SELECT unnest(?::oid[])
              UNION
                SELECT dep.oid
                FROM wanted w
                JOIN pg_type t ON t.oid = w.oid
                CROSS JOIN LATERAL (VALUES (CASE WHEN %1$s THEN t.typelem END), (t.typbasetype)) AS dep(oid)
                WHERE dep.oid IS NOT NULL AND dep.oid <> 0
            )
            SELECT t.oid, n.nspname, t.typname, t.typtype, t.typcategory,
                   CASE WHEN %1$s THEN t.typelem ELSE 0 END AS element,
                   t.typbasetype, t.typtypmod,
                   ARRAY(SELECT e.enumlabel FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder) AS labels
            FROM pg_type t
            JOIN pg_namespace n ON n.oid = t.typnamespace
            WHERE t.oid IN (SELECT oid FROM wanted)
            """.formatted(IS_ARRAY);

    private TypeResolver() {}

    /**
     * The resolved types of {@code oids}, by oid; an oid that is not in pg_type (a type dropped since a change
     * that replication is decoding was written) is left out.
     */
    static Map<Long, PgType> resolve(Connection connection, Collection<Long> oids) throws SQLException {
        Map<Long, Row> rows = new HashMap<>();
        try (PreparedStatement st = connection.prepareStatement(SQL)) {
            Array param = connection.createArrayOf("int8", oids.toArray(Long[]::new));
            st.setArray(1, param);
            try (ResultSet rs = st.executeQuery()) {
                while (rs.next()) {
                    Row row = new Row(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4).charAt(0),
                            rs.getString(5).charAt(0), rs.getLong(6), rs.getLong(7), rs.getInt(8),
                            List.of((String[]) rs.getArray(9).getArray()));
                    rows.put(row.oid, row);
                }
            }
            param.free();
        }
        Map<Long, PgType> resolved = new HashMap<>();
        for (Long oid : oids) {
            if (rows.containsKey(oid)) {
                build(oid, rows, resolved);
            }
        }
        return resolved;
    }

    private static PgType build(long oid, Map<Long, Row> rows, Map<Long, PgType> resolved) {
        PgType done = resolved.get(oid);
        if (done != null) {
            return done;
        }
        Row row = rows.get(oid);
        if (row == null) {
            // An element or base type of a type that exists: one query sees both, or neither.
            throw new IllegalStateException("type " + oid + " is not in pg_type");
        }
        PgType element = row.element == 0 ? null : build(row.element, rows, resolved);
        PgType base = row.base == 0 ? null : build(row.base, rows, resolved);
        PgType type = new PgType(row.oid, row.namespace, row.name, row.typtype, row.category, element, base,
                row.labels, row.typtypmod);
        resolved.put(oid, type);
        return type;
    }

    private record Row(long oid, String namespace, String name, char typtype, char category, long element, long base,
            int typtypmod, List<String> labels) {}
}
