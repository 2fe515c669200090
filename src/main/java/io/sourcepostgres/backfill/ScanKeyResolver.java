package io.sourcepostgres.backfill;

import io.sourcepostgres.airbyte.ConnectorException;
import io.sourcepostgres.discovery.ColumnInfo;
import io.sourcepostgres.discovery.DiscoveredTable;
import io.sourcepostgres.postgres.Sql;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Chooses and validates a table's scan key. A keyset scan is only complete if no two rows share a key: rows
 * equal to the last key of a chunk would be skipped. So the key must contain the columns of the primary key
 * or of a unique index, and that index must also keep NULLs apart (its columns NOT NULL, or the index NULLS
 * NOT DISTINCT): a plain unique index lets any number of rows hold NULL in the same column, and downstream,
 * which upserts by this key, could not tell those rows apart either.
 */
final class ScanKeyResolver {
    private static final String INDEXES = """
            SELECT i.indrelid::int8, ic.relname, i.indisunique, i.indisprimary, %s,
                   i.indisvalid AND i.indpred IS NULL AND i.indexprs IS NULL AND am.amname = 'btree',
                   ARRAY(SELECT a.attname
                         FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, pos)
                         JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                         WHERE k.pos <= i.indnkeyatts ORDER BY k.pos)::text[],
                   ARRAY(SELECT coalesce(oc.opcdefault, false) AND i.indcollation[k.pos - 1] = a.attcollation
                                AND (i.indoption[k.pos - 1]::int & 3) = 0
                         FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, pos)
                         JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                         LEFT JOIN pg_catalog.pg_opclass oc ON oc.oid = i.indclass[k.pos - 1]
                         WHERE k.pos <= i.indnkeyatts ORDER BY k.pos)::boolean[]
            FROM pg_catalog.pg_index i
            JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
            JOIN pg_catalog.pg_am am ON am.oid = ic.relam
            WHERE i.indrelid = ANY(?::oid[])
            ORDER BY i.indrelid, i.indisprimary DESC, ic.relname
            """;

    private static final String COLLATIONS = """
            SELECT a.attrelid::int8, a.attname, cn.nspname, co.collname
            FROM pg_catalog.pg_attribute a
            JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation
            JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
            WHERE a.attrelid = ANY(?::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
            """;

    /** Tables planned per pair of catalog queries. */
    private static final int BATCH_TABLES = 1000;

    private ScanKeyResolver() {}

    /**
     * Plans many tables with two catalog queries per {@value #BATCH_TABLES} rather than two per table: with
     * thousands of tables, per-table round trips take longer than reading their rows. Each plan is the one
     * {@link #resolve(Connection, DiscoveredTable, List, boolean, io.sourcepostgres.postgres.PublishedSubset,
     * java.util.function.Predicate)} makes, and fails the same way.
     */
    static List<BackfillPlan> resolveAll(Connection connection, List<BackfillPlan.Request> requests) {
        List<BackfillPlan> plans = new ArrayList<>(requests.size());
        for (int from = 0; from < requests.size(); from += BATCH_TABLES) {
            List<BackfillPlan.Request> batch = requests.subList(from, Math.min(requests.size(), from + BATCH_TABLES));
            Long[] oids = batch.stream().map(r -> r.table().oid()).distinct().toArray(Long[]::new);
            Map<Long, List<IndexRow>> indexes;
            Map<Long, Map<String, String>> collations;
            int major;
            try {
                major = serverMajor(connection);
                indexes = indexes(connection, oids, major);
                collations = collations(connection, oids);
            } catch (SQLException e) {
                throw ChunkReader.failure("Reading the indexes of " + batch.size() + " tables to plan their backfill", e);
            }
            for (BackfillPlan.Request r : batch) {
                plans.add(resolve(connection, r.table(), r.catalogKey(), r.withGenerated(), major,
                        indexes.getOrDefault(r.table().oid(), List.of()),
                        collations.getOrDefault(r.table().oid(), Map.of()), r.published(), r.selected()));
            }
        }
        return plans;
    }

    static BackfillPlan resolve(Connection connection, DiscoveredTable table, List<String> catalogKey,
            boolean withGenerated, io.sourcepostgres.postgres.PublishedSubset published,
            java.util.function.Predicate<String> selected) {
        Long[] oids = {table.oid()};
        int major;
        Map<Long, List<IndexRow>> indexes;
        Map<Long, Map<String, String>> collations;
        try {
            major = serverMajor(connection);
            indexes = indexes(connection, oids, major);
            collations = collations(connection, oids);
        } catch (SQLException e) {
            throw ChunkReader.failure("Reading the indexes of " + table.id() + " to plan its backfill", e);
        }
        return resolve(connection, table, catalogKey, withGenerated, major, indexes.getOrDefault(table.oid(), List.of()),
                collations.getOrDefault(table.oid(), Map.of()), published, selected);
    }

    private static BackfillPlan resolve(Connection connection, DiscoveredTable table, List<String> catalogKey,
            boolean withGenerated, int major, List<IndexRow> indexes, Map<String, String> collations,
            io.sourcepostgres.postgres.PublishedSubset published, java.util.function.Predicate<String> selected) {
        boolean fromCatalog = catalogKey != null && !catalogKey.isEmpty();
        List<String> names = fromCatalog ? catalogKey : table.primaryKey();
        if (names.isEmpty()) {
            throw ConnectorException.config("Table " + table.id() + " has no primary key, so its rows cannot be read in "
                    + "resumable chunks. Add one (ALTER TABLE " + table.id().quoted() + " ADD PRIMARY KEY (...)), or set "
                    + "\"primary_key\" for the stream in the catalog to columns that have a unique index"
                    + suggestion(connection, table) + ".");
        }
        if (new HashSet<>(names).size() != names.size()) {
            throw ConnectorException.config("The catalog's primary_key for table " + table.id() + " names a column twice "
                    + names + "; list each key column once.");
        }
        List<ColumnInfo> all = table.columns();
        List<ColumnInfo> columns = all.stream().filter(c -> names.contains(c.name())
                || ((withGenerated || !c.generated()) && selected.test(c.name())))
                .filter(c -> published.publishes(c.name())).toList();
        for (String name : names) {
            if (table.column(name).isEmpty()) {
                throw ConnectorException.config("The catalog's primary_key for table " + table.id() + " names column \""
                        + name + "\", which the table does not have (its columns: "
                        + all.stream().map(ColumnInfo::name).collect(Collectors.joining(", "))
                        + "). Column names are case-sensitive; fix the stream's primary_key in the catalog.");
            }
        }
        List<String> unpublished = names.stream().filter(n -> !published.publishes(n)).toList();
        if (!unpublished.isEmpty()) {
            throw ConnectorException.config("The publication's column list for table " + table.id() + " leaves out the "
                    + "scan key columns " + unpublished + ", so replicated rows could not be told apart. Add them to the "
                    + "column list (ALTER PUBLICATION ... SET TABLE " + table.id().quoted() + " (...);) or set the "
                    + "stream's primary_key in the catalog to published columns.");
        }
        try {
            checkUnique(table, names, indexes, fromCatalog);
            List<ScanKeyColumn> key = new ArrayList<>();
            for (String name : names) {
                ColumnInfo c = table.column(name).orElseThrow();
                key.add(new ScanKeyColumn(c, columns.indexOf(c), collations.get(name), !c.notNull()));
            }
            String orderingIndex = indexes.stream().filter(i -> i.ordersAs(names)).map(IndexRow::name).findFirst()
                    .orElse(null);
            BackfillPlan plan = new BackfillPlan(table, columns, key, fromCatalog, orderingIndex, major,
                    published.rowFilter());
            if (orderingIndex == null) {
                // Without a btree index in the key's default order the types' own ordering must be asked for;
                // with one, the index's default operator classes are that ordering.
                checkOrderable(connection, plan);
            }
            return plan;
        } catch (SQLException e) {
            throw ChunkReader.failure("Planning the backfill of table " + table.id(), e);
        }
    }

    private static void checkUnique(DiscoveredTable table, List<String> key, List<IndexRow> indexes, boolean fromCatalog) {
        Set<String> keySet = new HashSet<>(key);
        List<IndexRow> covering = indexes.stream().filter(i -> i.unique && i.plainBtree && keySet.containsAll(i.columns))
                .toList();
        for (IndexRow index : covering) {
            if (index.nullsNotDistinct || nullable(table, index.columns).isEmpty()) {
                return;
            }
        }
        String what = fromCatalog ? "The catalog's primary_key " + key + " for table " + table.id()
                : "The primary key " + key + " of table " + table.id();
        if (!covering.isEmpty()) {
            IndexRow index = covering.get(0);
            List<String> nullable = nullable(table, index.columns);
            String setNotNull = nullable.stream().map(c -> "ALTER COLUMN " + Sql.identifier(c) + " SET NOT NULL")
                    .collect(Collectors.joining(", "));
            throw ConnectorException.config(what + " is unique only through index \"" + index.name + "\" on "
                    + index.columns + ", which lets several rows hold NULL in " + nullable + ": such rows would share a "
                    + "key, so a resumable scan could skip them and a destination would merge them into one. Make "
                    + (nullable.size() == 1 ? "the column" : "the columns") + " NOT NULL (ALTER TABLE "
                    + table.id().quoted() + " " + setNotNull + ")"
                    + (table.primaryKey().isEmpty() ? "" : ", use the table's primary key " + table.primaryKey())
                    + ", or on PostgreSQL 15 and later create the index with NULLS NOT DISTINCT (CREATE UNIQUE INDEX ON "
                    + table.id().quoted() + " (" + quotedList(index.columns) + ") NULLS NOT DISTINCT).");
        }
        throw ConnectorException.config(what + " is not backed by a unique index, so rows sharing a key could be "
                + "skipped by a resumable scan. Create one (CREATE UNIQUE INDEX CONCURRENTLY ON " + table.id().quoted()
                + " (" + quotedList(key) + ")), or set the stream's primary_key in the catalog to columns that are "
                + "unique" + (table.primaryKey().isEmpty() ? "" : ", such as the table's primary key " + table.primaryKey())
                + ".");
    }

    /**
     * A key column of a type without a default btree ordering (json, point, xml...) cannot be ordered or
     * compared; asking the planner finds that out for every type, domain and extension alike.
     */
    private static void checkOrderable(Connection connection, BackfillPlan plan) throws SQLException {
        List<String> anyValues = Collections.nCopies(plan.key().size(), "");
        try (Statement st = connection.createStatement()) {
            st.execute("EXPLAIN " + new ChunkQuery(plan).select(anyValues, 1));
        } catch (SQLException e) {
            if ("42883".equals(e.getSQLState())) {
                throw ConnectorException.config("The scan key " + plan.keyColumnNames() + " of table " + plan.table().id()
                        + " cannot be ordered: " + e.getMessage() + ". Choose key columns of types that have an "
                        + "ordering (the stream's primary_key in the catalog).", e);
            }
            throw e;
        }
    }

    private static List<String> nullable(DiscoveredTable table, List<String> columns) {
        return columns.stream().filter(c -> table.column(c).map(col -> !col.notNull()).orElse(true)).toList();
    }

    private static String quotedList(List<String> columns) {
        return columns.stream().map(Sql::identifier).collect(Collectors.joining(", "));
    }

    /** For a table without a primary key: a unique index the catalog could name instead, if there is one. */
    private static String suggestion(Connection connection, DiscoveredTable table) {
        try {
            return indexes(connection, new Long[] {table.oid()}, serverMajor(connection)).getOrDefault(table.oid(), List.of())
                    .stream()
                    .filter(i -> i.unique && i.plainBtree && (i.nullsNotDistinct || nullable(table, i.columns).isEmpty()))
                    .findFirst()
                    .map(i -> " (unique index \"" + i.name + "\" would do: \"primary_key\": "
                            + i.columns.stream().map(c -> "[\"" + c.replace("\\", "\\\\").replace("\"", "\\\"") + "\"]")
                                    .collect(Collectors.joining(",", "[", "]")) + ")")
                    .orElse("");
        } catch (SQLException e) {
            return "";
        }
    }

    private static int serverMajor(Connection connection) throws SQLException {
        return connection.getMetaData().getDatabaseMajorVersion();
    }

    private static Map<Long, List<IndexRow>> indexes(Connection connection, Long[] oids, int serverMajor)
            throws SQLException {
        String nullsNotDistinct = serverMajor >= 15 ? "i.indnullsnotdistinct" : "false";
        Map<Long, List<IndexRow>> rows = new HashMap<>();
        try (PreparedStatement ps = connection.prepareStatement(String.format(INDEXES, nullsNotDistinct))) {
            ps.setArray(1, connection.createArrayOf("int8", oids));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rows.computeIfAbsent(rs.getLong(1), k -> new ArrayList<>()).add(new IndexRow(rs.getString(2),
                            rs.getBoolean(3), rs.getBoolean(4), rs.getBoolean(5), rs.getBoolean(6),
                            List.of((String[]) array(rs.getArray(7))), List.of((Boolean[]) array(rs.getArray(8)))));
                }
            }
        }
        return rows;
    }

    private static Object array(Array a) throws SQLException {
        return a.getArray();
    }

    private static Map<Long, Map<String, String>> collations(Connection connection, Long[] oids) throws SQLException {
        Map<Long, Map<String, String>> byTable = new HashMap<>();
        try (PreparedStatement ps = connection.prepareStatement(COLLATIONS)) {
            ps.setArray(1, connection.createArrayOf("int8", oids));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    byTable.computeIfAbsent(rs.getLong(1), k -> new HashMap<>()).put(rs.getString(2),
                            Sql.identifier(rs.getString(3)) + "." + Sql.identifier(rs.getString(4)));
                }
            }
        }
        return byTable;
    }

    /**
     * @param ascendingDefault per key column: default operator class, the column's own collation, ascending
     *     with NULLS LAST, i.e. the order an ORDER BY of the plain column asks for
     */
    private record IndexRow(String name, boolean unique, boolean primary, boolean nullsNotDistinct, boolean plainBtree,
            List<String> columns, List<Boolean> ascendingDefault) {

        boolean ordersAs(List<String> key) {
            if (!plainBtree || columns.size() < key.size()) {
                return false;
            }
            for (int i = 0; i < key.size(); i++) {
                if (!columns.get(i).equals(key.get(i)) || !ascendingDefault.get(i)) {
                    return false;
                }
            }
            return true;
        }
    }
}
