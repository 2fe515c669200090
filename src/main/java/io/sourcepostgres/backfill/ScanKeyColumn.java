package io.sourcepostgres.backfill;

import io.sourcepostgres.discovery.ColumnInfo;

/**
 * One column of a scan key.
 *
 * @param column the table column
 * @param position its position among the columns a chunk selects ({@link BackfillPlan#columns()}), which is
 *     also its position in every chunk row
 * @param collation the column's collation as SQL names it, qualified and quoted (e.g.
 *     {@code "pg_catalog"."en-US-x-icu"}); null for a type that has none. Resume values compare under it, so
 *     that the condition that continues a scan orders exactly as the scan's ORDER BY.
 * @param nullable whether the column may hold NULL (only a catalog override can make such a column part
 *     of a key); the scan sorts NULL after every value, as PostgreSQL's ascending order does
 */
public record ScanKeyColumn(ColumnInfo column, int position, String collation, boolean nullable) {
    public String name() {
        return column.name();
    }
}
