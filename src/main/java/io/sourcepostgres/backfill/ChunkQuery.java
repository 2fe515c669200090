package io.sourcepostgres.backfill;

import io.sourcepostgres.postgres.Sql;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The SQL of one chunk: the plan's columns, rows strictly after the resume key in scan-key order, at most a
 * given number of them.
 *
 * <p>The order is {@code ORDER BY k1 ASC NULLS LAST, k2 ASC NULLS LAST...}: each column's default btree
 * ordering under its own collation (text under its ICU or libc collation, citext case-insensitively, enums by
 * their sort order). The resume condition compares with the same operators under the same collations:
 * every resume value is cast to its column's own type and given the column's collation explicitly, so the
 * comparison cannot fall back to another type's or collation's order.
 *
 * <p>When every key column is NOT NULL the condition is the row comparison {@code (k1, k2) > (v1, v2)},
 * which a btree index answers as one range scan. A row comparison treats NULL as unknown, so with a NULL-able
 * column the condition is spelled out, with NULL sorting after every value:
 * {@code k1 > v1 OR k1 IS NULL} for "after", {@code k1 = v1} or {@code k1 IS NULL} for "equal", and nothing
 * is after NULL in that column. A NOT NULL first column adds {@code k1 >= v1} so the index still bounds the scan.
 *
 * <p>COPY takes no bind parameters, so resume values travel as transaction-local custom settings
 * ({@code source_postgres.resume_N}, set by the caller with {@code set_config(..., true)}) and are read
 * once per statement in an init plan: no value is ever spliced into the SQL text.
 */
final class ChunkQuery {
    static final String SETTING_PREFIX = "source_postgres.resume_";

    private final BackfillPlan plan;
    private final String selectFrom;
    private final String orderBy;

    ChunkQuery(BackfillPlan plan) {
        this.plan = plan;
        String columns = plan.columns().stream().map(c -> Sql.identifier(c.name())).collect(Collectors.joining(", "));
        // A plain table's inheritance children are tables of their own (own streams, own pgoutput relations);
        // a partitioned table's rows all live in its partitions.
        String only = plan.table().isPartitioned() ? "" : "ONLY ";
        this.selectFrom = "SELECT " + columns + " FROM " + only + plan.table().id().quoted();
        this.orderBy = plan.key().stream().map(k -> Sql.identifier(k.name()) + " ASC NULLS LAST")
                .collect(Collectors.joining(", ", " ORDER BY ", ""));
    }

    /** The custom setting that carries the resume value of key column {@code index} (0-based). */
    static String setting(int index) {
        return SETTING_PREFIX + (index + 1);
    }

    /**
     * The chunk's SELECT. {@code resumeAfter} is null for the first chunk; otherwise only its pattern of NULLs
     * shapes the SQL (values come from the settings).
     */
    String select(List<String> resumeAfter, int limit) {
        StringBuilder sql = new StringBuilder(selectFrom);
        // The row filter is the server's own deparsed expression (pg_publication_tables.rowfilter), which
        // PostgreSQL limits to immutable built-in functions: it passes the same rows here as in pgoutput.
        String filter = plan.rowFilter() == null ? null : "(" + plan.rowFilter() + ")";
        if (resumeAfter != null) {
            sql.append(" WHERE ").append(after(resumeAfter));
            if (filter != null) {
                sql.append(" AND ").append(filter);
            }
        } else if (filter != null) {
            sql.append(" WHERE ").append(filter);
        }
        return sql.append(orderBy).append(" LIMIT ").append(limit).toString();
    }

    String copy(List<String> resumeAfter, int limit) {
        return "COPY (" + select(resumeAfter, limit) + ") TO STDOUT";
    }

    private String after(List<String> resume) {
        List<ScanKeyColumn> key = plan.key();
        if (key.stream().noneMatch(ScanKeyColumn::nullable)) {
            if (key.size() == 1) {
                return column(0) + " > " + value(0);
            }
            List<String> columns = new ArrayList<>();
            List<String> values = new ArrayList<>();
            for (int i = 0; i < key.size(); i++) {
                columns.add(column(i));
                values.add(value(i));
            }
            return "(" + String.join(", ", columns) + ") > (" + String.join(", ", values) + ")";
        }
        List<String> disjuncts = new ArrayList<>();
        List<String> equalSoFar = new ArrayList<>();
        for (int i = 0; i < key.size(); i++) {
            if (resume.get(i) != null) {
                String greater = key.get(i).nullable()
                        ? "(" + column(i) + " > " + value(i) + " OR " + column(i) + " IS NULL)"
                        : column(i) + " > " + value(i);
                List<String> terms = new ArrayList<>(equalSoFar);
                terms.add(greater);
                disjuncts.add("(" + String.join(" AND ", terms) + ")");
                equalSoFar.add(column(i) + " = " + value(i));
            } else {
                equalSoFar.add(column(i) + " IS NULL");
            }
        }
        String chain = disjuncts.isEmpty() ? "FALSE" : "(" + String.join(" OR ", disjuncts) + ")";
        if (!key.get(0).nullable()) {
            chain = column(0) + " >= " + value(0) + " AND " + chain;
        }
        return chain;
    }

    private String column(int i) {
        return Sql.identifier(plan.key().get(i).name());
    }

    private String value(int i) {
        ScanKeyColumn k = plan.key().get(i);
        String read = "(SELECT pg_catalog.current_setting('" + setting(i) + "', true)::" + k.column().type().sqlName() + ")";
        return k.collation() == null ? read : "(" + read + " COLLATE " + k.collation() + ")";
    }
}
