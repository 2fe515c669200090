package io.sourcepostgres.capture;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A stream's place in the per-table state machine: {@code PENDING} (no row read yet), {@code BACKFILLING}
 * (rows up to {@code resumeAfter} emitted), {@code ACTIVE} (backfill complete; changes come from
 * replication only).
 *
 * @param phase where the stream is
 * @param resumeAfter while backfilling, the scan key of the last emitted row (a JSON array, one
 *     element per key column, in PostgreSQL's text form); null otherwise
 * @param rowsDone rows backfilled so far (for progress reporting)
 * @param scanKey while backfilling, the scan key {@code resumeAfter} belongs to (a JSON array of
 *     {@code {"column", "type", "collation"}}, see {@link ScanKeyRecord}); null otherwise, and in states written
 *     before the connector recorded it
 */
public record StreamProgress(Phase phase, JsonNode resumeAfter, long rowsDone, JsonNode scanKey) {

    public StreamProgress(Phase phase, JsonNode resumeAfter, long rowsDone) {
        this(phase, resumeAfter, rowsDone, null);
    }

    public enum Phase { PENDING, BACKFILLING, ACTIVE }

    public static final StreamProgress PENDING = new StreamProgress(Phase.PENDING, null, 0);
    public static final StreamProgress ACTIVE = new StreamProgress(Phase.ACTIVE, null, 0);

    public boolean isActive() {
        return phase == Phase.ACTIVE;
    }
}
