package io.sourcepostgres.capture;

import java.util.ArrayList;
import java.util.List;

/**
 * One table of the torture test: how it is made and filled, how its rows are addressed by a number, and how
 * its keys sort. A row's key is derived from a number {@code i} by SQL expressions (so that writers, the
 * initial fill and key changes agree without the test computing ICU strings or uuids itself); preexisting
 * rows use even numbers, so that inserts land both between them and beyond them, ahead of and behind the
 * backfill's cursor.
 *
 * @param name table name (schema public)
 * @param columns every column in table order
 * @param keyColumns the primary key columns in key order
 * @param keyExpressions per key column, an SQL expression of one {@code ?} (the row number); empty for an
 *     identity key, which the server assigns
 * @param createSql the CREATE TABLE statement
 * @param keyOrder the ORDER BY list that sorts {@code u}, an unnest of the key columns' text forms named
 *     {@code k1, k2, ...}, exactly as the table's primary key index does
 */
record TortureTable(String name, List<String> columns, List<String> keyColumns, List<String> keyExpressions,
        String createSql, String keyOrder) {

    /**
     * A large value stored out of line on about one row in ten (inserts get one by default): updates leave it
     * alone unless they rewrite it, so PostgreSQL sends it as unchanged ('u') and the connector must find the
     * exact value itself (default identity) or take it from the old row (FULL).
     */
    private static final String BIG_COLUMN = "big text DEFAULT CASE WHEN random() < 0.1 THEN repeat(md5(random()::text), 66) END";

    /**
     * The seven tables: int, text under ICU, uuid, composite (ICU text, int) in non-column order, bigint identity,
     * and two with a large out-of-line column, one under the default replica identity and one under FULL.
     */
    static List<TortureTable> all() {
        return List.of(
                new TortureTable("t_int", List.of("id", "v", "n", "x"), List.of("id"), List.of("?"),
                        "CREATE TABLE t_int (id int PRIMARY KEY, v text, n int NOT NULL, x bigint)", "k1::int"),
                new TortureTable("t_text", List.of("k", "v", "n", "x"), List.of("k"), List.of("torture_tkey(?)"),
                        "CREATE TABLE t_text (k text COLLATE \"en-US-x-icu\" PRIMARY KEY, v text, n int NOT NULL, x bigint)",
                        "k1 COLLATE \"en-US-x-icu\""),
                new TortureTable("t_uuid", List.of("id", "v", "n", "x"), List.of("id"), List.of("torture_ukey(?)"),
                        "CREATE TABLE t_uuid (id uuid PRIMARY KEY, v text, n int NOT NULL, x bigint)", "k1::uuid"),
                // The key's order (a, b) differs from the columns' order (b before a).
                new TortureTable("t_comp", List.of("b", "v", "a", "n", "x"), List.of("a", "b"),
                        List.of("torture_ckey_a(?)", "torture_ckey_b(?)"),
                        "CREATE TABLE t_comp (b int NOT NULL, v text, a text COLLATE \"sv-SE-x-icu\" NOT NULL, "
                                + "n int NOT NULL, x bigint, PRIMARY KEY (a, b))",
                        "k1 COLLATE \"sv-SE-x-icu\", k2::int"),
                new TortureTable("t_ident", List.of("id", "v", "n", "x"), List.of("id"), List.of(),
                        "CREATE TABLE t_ident (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v text, n int NOT NULL, "
                                + "x bigint)", "k1::bigint"),
                new TortureTable("t_toast", List.of("id", "v", "n", "x", "big"), List.of("id"), List.of("?"),
                        "CREATE TABLE t_toast (id int PRIMARY KEY, v text, n int NOT NULL, x bigint, " + BIG_COLUMN + "); "
                                + "ALTER TABLE t_toast ALTER big SET STORAGE EXTERNAL", "k1::int"),
                new TortureTable("t_full", List.of("id", "v", "n", "x", "big"), List.of("id"), List.of("?"),
                        "CREATE TABLE t_full (id int PRIMARY KEY, v text, n int NOT NULL, x bigint, " + BIG_COLUMN + "); "
                                + "ALTER TABLE t_full ALTER big SET STORAGE EXTERNAL; ALTER TABLE t_full REPLICA IDENTITY FULL",
                        "k1::int"));
    }

    /** Functions deriving keys from row numbers: ICU-hard text, uuids in random order, composite parts. */
    static List<String> keyFunctions() {
        return List.of(
                "CREATE FUNCTION torture_tkey(i bigint) RETURNS text IMMUTABLE LANGUAGE sql AS $$ SELECT (ARRAY['a','A','ä',"
                        + "'Ä','b','B','é','e','E','z','Z','ß','ss','Ss','œ','10','9',' x','-a','co-op','coop','😀','ﬁ','fi',"
                        + "E'tab\\there','back\\slash','''q','中文','İ','ı'])[1 + i % 30] || '·' || i $$",
                "CREATE FUNCTION torture_ukey(i bigint) RETURNS uuid IMMUTABLE LANGUAGE sql AS $$ SELECT md5('u' || i)::uuid $$",
                // Swedish sorts å, ä, ö after z: an order that is neither bytewise nor English.
                "CREATE FUNCTION torture_ckey_a(i bigint) RETURNS text IMMUTABLE LANGUAGE sql AS $$ SELECT (ARRAY['Ö','o',"
                        + "'Å','a','z','ä','aa','AA','v','w'])[1 + i % 10] $$",
                "CREATE FUNCTION torture_ckey_b(i bigint) RETURNS int IMMUTABLE LANGUAGE sql AS $$ SELECT (i / 10)::int $$");
    }

    boolean identity() {
        return keyExpressions.isEmpty();
    }

    /** The preexisting rows: numbers 0, 2, 4, ... (2 * rows - 2), with values v, n, x of their own. */
    String fillSql(int rows) {
        List<String> cols = new ArrayList<>();
        List<String> exprs = new ArrayList<>();
        for (int k = 0; k < keyExpressions.size(); k++) {
            cols.add(quote(keyColumns.get(k)));
            exprs.add(keyExpressions.get(k).replace("?", "(2 * g)"));
        }
        cols.addAll(List.of("v", "n", "x"));
        exprs.addAll(List.of("'initial ' || g", "0", "g::bigint * 1000003"));
        return "INSERT INTO " + name + " (" + String.join(", ", cols) + ") SELECT " + String.join(", ", exprs)
                + " FROM generate_series(0, " + (rows - 1) + ") g";
    }

    /** INSERT of row number ? (unless identity) with values ?, ?; a key that exists already is left alone. */
    String insertSql() {
        List<String> cols = new ArrayList<>();
        List<String> exprs = new ArrayList<>();
        for (int k = 0; k < keyExpressions.size(); k++) {
            cols.add(quote(keyColumns.get(k)));
            exprs.add(keyExpressions.get(k));
        }
        cols.addAll(List.of("v", "n", "x"));
        exprs.addAll(List.of("?", "0", "?"));
        return "INSERT INTO " + name + " (" + String.join(", ", cols) + ") VALUES (" + String.join(", ", exprs) + ")"
                + (identity() ? "" : " ON CONFLICT DO NOTHING");
    }

    /**
     * UPDATE of values v = ?, x = ? (and n + 1) of row number ?; where there is a large column, a third of the
     * updates rewrite it (and the others leave it alone, so it is not sent).
     */
    String updateSql() {
        String big = columns.contains("big")
                ? ", big = CASE WHEN random() < 0.33 THEN repeat(md5(random()::text), 66) ELSE big END" : "";
        return "UPDATE " + name + " SET v = ?, n = n + 1, x = ?" + big + " WHERE " + where();
    }

    /** UPDATE moving row number ? (the second parameter) to the key of row number ? (the first). */
    String keyChangeSql() {
        if (identity()) {
            return "UPDATE " + name + " SET id = DEFAULT, n = n + 1 WHERE " + where();
        }
        List<String> sets = new ArrayList<>();
        for (int k = 0; k < keyColumns.size(); k++) {
            sets.add(quote(keyColumns.get(k)) + " = " + keyExpressions.get(k));
        }
        return "UPDATE " + name + " SET " + String.join(", ", sets) + ", n = n + 1 WHERE " + where();
    }

    /** UPDATE of v = ? in the ? rows from row number ? on, in key order: a transaction touching a whole chunk or more. */
    String bulkUpdateSql() {
        String keys = String.join(", ", keyColumns.stream().map(TortureTable::quote).toList());
        String from = identity() ? "?" : String.join(", ", keyExpressions);
        return "UPDATE " + name + " SET v = ?, n = n + 1 WHERE (" + keys + ") IN (SELECT " + keys + " FROM " + name
                + " WHERE (" + keys + ") >= (" + from + ") ORDER BY " + keys + " LIMIT ?)";
    }

    /** Locks FOR KEY SHARE the ? rows from row number ? on, in key order. */
    String keyShareLockSql() {
        String keys = String.join(", ", keyColumns.stream().map(TortureTable::quote).toList());
        String from = identity() ? "?" : String.join(", ", keyExpressions);
        return "SELECT 1 FROM " + name + " WHERE (" + keys + ") >= (" + from + ") ORDER BY " + keys
                + " LIMIT ? FOR KEY SHARE";
    }

    /** DELETE of row number ?. */
    String deleteSql() {
        return "DELETE FROM " + name + " WHERE " + where();
    }

    /** How many {@code ?} the key of one row number takes (each bound to the same number). */
    int keyParameters() {
        return identity() ? 1 : keyExpressions.size();
    }

    private String where() {
        if (identity()) {
            return "id = ?";
        }
        List<String> parts = new ArrayList<>();
        for (int k = 0; k < keyColumns.size(); k++) {
            parts.add(quote(keyColumns.get(k)) + " = " + keyExpressions.get(k));
        }
        return String.join(" AND ", parts);
    }

    /** Sorts text forms of keys (arrays {@code ?::text[]}, one per key column) in the table's key order. */
    String rankSql() {
        List<String> arrays = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (int k = 1; k <= keyColumns.size(); k++) {
            arrays.add("?::text[]");
            names.add("k" + k);
        }
        return "SELECT " + String.join(", ", names) + " FROM unnest(" + String.join(", ", arrays) + ") AS u("
                + String.join(", ", names) + ") ORDER BY " + keyOrder;
    }

    static String quote(String identifier) {
        return '"' + identifier.replace("\"", "\"\"") + '"';
    }

    @Override
    public String toString() {
        return name;
    }
}
