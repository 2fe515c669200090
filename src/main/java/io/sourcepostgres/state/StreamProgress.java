package io.sourcepostgres.state;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A stream's place in the per-table state machine: {@code PENDING} (no row read yet), {@code BACKFILLING}
 * (rows up to {@code resumeAfter} emitted), {@code ACTIVE} (backfill complete; changes come from
 * replication only). A stream goes back to {@code PENDING} when its backfill starts over
 * ({@code capture.BackfillRestarts}): reset by the orchestrator, truncated, recreated, or back in the publication.
 *
 * @param phase where the stream is
 * @param resumeAfter while backfilling, the scan key of the last emitted row (a JSON array, one
 *     element per key column, in PostgreSQL's text form); null otherwise
 * @param rowsDone rows backfilled so far (for progress reporting)
 * @param scanKey while backfilling, the scan key {@code resumeAfter} belongs to (a JSON array of
 *     {@code {"column", "type", "collation"}}, see {@code backfill.ScanKeyRecord}); null otherwise, and in states written
 *     before the connector recorded it
 * @param relationOid the {@code pg_class} oid of the table the progress belongs to; 0 when not known (a
 *     state written before it was recorded). A table dropped and recreated under the same name has another.
 * @param publicationMembership what makes the publication publish the table ({@code capture.PublicationMembership});
 *     null when not known. It changes when the table leaves the publication and is added back.
 * @param partitions for a partitioned table, its leaf partitions' oids as last checked ({@code capture.PartitionLeaves}:
 *     ascending, comma-separated; empty when it has none); null for an ordinary table, and when not known (a state
 *     written before the connector recorded it). Partitions attached or detached change it, and no WAL says so.
 */
public record StreamProgress(Phase phase, JsonNode resumeAfter, long rowsDone, JsonNode scanKey, long relationOid,
        String publicationMembership, String partitions) {

    public enum Phase { PENDING, BACKFILLING, ACTIVE }

    public static final StreamProgress PENDING = new StreamProgress(Phase.PENDING, null, 0);
    public static final StreamProgress ACTIVE = new StreamProgress(Phase.ACTIVE, null, 0);

    public StreamProgress(Phase phase, JsonNode resumeAfter, long rowsDone) {
        this(phase, resumeAfter, rowsDone, null, 0, null, null);
    }

    public StreamProgress(Phase phase, JsonNode resumeAfter, long rowsDone, JsonNode scanKey) {
        this(phase, resumeAfter, rowsDone, scanKey, 0, null, null);
    }

    public StreamProgress(Phase phase, JsonNode resumeAfter, long rowsDone, long relationOid, String publicationMembership) {
        this(phase, resumeAfter, rowsDone, null, relationOid, publicationMembership, null);
    }

    public StreamProgress(Phase phase, JsonNode resumeAfter, long rowsDone, JsonNode scanKey, long relationOid,
            String publicationMembership) {
        this(phase, resumeAfter, rowsDone, scanKey, relationOid, publicationMembership, null);
    }

    public boolean isActive() {
        return phase == Phase.ACTIVE;
    }

    /** Set by the backfill when a chunk's rows are out: the scan goes on after {@code key} of {@code keyColumns}. */
    public StreamProgress backfilledTo(JsonNode key, long rows, JsonNode keyColumns) {
        return new StreamProgress(Phase.BACKFILLING, key, rows, keyColumns, relationOid, publicationMembership, partitions);
    }

    /** As {@link #backfilledTo(JsonNode, long, JsonNode)}, keeping the scan key recorded so far. */
    public StreamProgress backfilledTo(JsonNode key, long rows) {
        return backfilledTo(key, rows, scanKey);
    }

    /** Set by the backfill when its last chunk is out: from now on only replication feeds the stream. */
    public StreamProgress completed() {
        return new StreamProgress(Phase.ACTIVE, null, 0, null, relationOid, publicationMembership, partitions);
    }

    /** Set when the stream's backfill starts over from its first row. */
    public StreamProgress restarted() {
        return new StreamProgress(Phase.PENDING, null, 0, null, relationOid, publicationMembership, partitions);
    }

    /** The same progress, now known to belong to table {@code oid} published through {@code membership}. */
    public StreamProgress of(long oid, String membership) {
        return new StreamProgress(phase, resumeAfter, rowsDone, scanKey, oid, membership, partitions);
    }

    /** The same progress, its partitioned table now known to have the leaf partitions {@code leaves}. */
    public StreamProgress withPartitions(String leaves) {
        return new StreamProgress(phase, resumeAfter, rowsDone, scanKey, relationOid, publicationMembership, leaves);
    }
}
