package io.sourcepostgres.config;

/** What {@code read} does when a captured table is truncated ({@code truncate_handling}), besides warning. */
public enum TruncateHandling {
    /** Only warn: the destination keeps the removed rows (the connector's behaviour before the option). */
    WARN,
    /** Warn and start the truncated streams' backfills over. */
    REBACKFILL
}
