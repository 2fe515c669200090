package io.sourcepostgres.values;

/**
 * What {@code infinity} and {@code -infinity} of {@code date}, {@code timestamp} and {@code timestamptz}
 * become: the largest and smallest instants of the four-digit-year ISO 8601 form that JSON Schema's
 * {@code date} and {@code date-time} formats describe, so that every destination can load them.
 *
 * <ul>
 *   <li>{@code infinity}: {@code 9999-12-31}, {@code 9999-12-31T23:59:59.999999},
 *       {@code 9999-12-31T23:59:59.999999Z};
 *   <li>{@code -infinity}: {@code 0001-01-01}, {@code 0001-01-01T00:00:00}, {@code 0001-01-01T00:00:00Z}.
 * </ul>
 *
 * <p>The smallest is year 1 (AD), not year 0000 or a BC date: year 0000 is refused by PostgreSQL and by
 * most destinations, and 0001-01-01 is the minimum of the date types of the common ones (BigQuery,
 * Snowflake, Python, .NET, Java). These are real dates too, so the mapping does not round-trip: it is the
 * documented exception to losslessness, chosen because the contract says an infinite date is never an
 * error and a string that is not a date would break the column's format. Finite dates outside the range
 * (BC dates, years past 9999) are written as they are, never clamped.
 */
final class InfinityDates {
    static final String DATE_MAX = "9999-12-31";
    static final String DATE_MIN = "0001-01-01";
    static final String TIMESTAMP_MAX = "9999-12-31T23:59:59.999999";
    static final String TIMESTAMP_MIN = "0001-01-01T00:00:00";
    static final String TIMESTAMPTZ_MAX = TIMESTAMP_MAX + "Z";
    static final String TIMESTAMPTZ_MIN = TIMESTAMP_MIN + "Z";

    private InfinityDates() {}
}
