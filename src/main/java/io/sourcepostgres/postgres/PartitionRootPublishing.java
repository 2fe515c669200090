package io.sourcepostgres.postgres;

import java.util.Optional;

/**
 * What a publication with {@code publish_via_partition_root} costs a capture, found by running the server, not by
 * reading its documentation:
 *
 * <ul>
 *   <li>pgoutput does not send a {@code TRUNCATE} of a single partition at all when the partition's changes are
 *       published as its root's (its truncate callback skips a partition published through an ancestor), so the
 *       rows it removed stay in the destination with nothing said (PostgreSQL 13–18);
 *   <li>{@code FOR ALL TABLES} with the option, PostgreSQL 14+: a change written to a partition while its
 *       {@code DETACH PARTITION … CONCURRENTLY} is pending crashes the walsender that decodes it (a segmentation fault
 *       in pgoutput's {@code get_rel_sync_entry}, which takes the last of the partition's ancestors and finds none,
 *       reproduced on 14.24, 15.19, 16.15, 17.11 and 18.6). The server restarts every connection, and since the
 *       change stays in the slot's WAL, every later run crashes it again at the same change.
 * </ul>
 *
 * This is why the connector's own publication is made without the option; with a publication of the user's that
 * has it, {@code check} fails with the fix and a {@code read} warns and goes on.
 */
public final class PartitionRootPublishing {
    private PartitionRootPublishing() {}

    /** The problem with {@code publication} on a server of {@code serverMajorVersion}, if it has one. */
    public static Optional<Problem> problem(Publication publication, int serverMajorVersion) {
        if (!publication.viaRoot()) {
            return Optional.empty();
        }
        String name = Sql.identifier(publication.name());
        String what = "Publication " + name + " publishes partitions' changes as their root's"
                + " (publish_via_partition_root): PostgreSQL then sends nothing for a TRUNCATE of a single partition, so"
                + " the destination keeps the rows it removed";
        if (publication.allTables() && serverMajorVersion >= 14) {
            what += "; and, FOR ALL TABLES, a row written to a partition while its DETACH PARTITION ... CONCURRENTLY is"
                    + " pending crashes the server's walsender when it decodes that row (a PostgreSQL bug; the server"
                    + " restarts every connection, and every later run crashes it again at the same row)";
        }
        return Optional.of(new Problem(what, "Run: ALTER PUBLICATION " + name
                + " SET (publish_via_partition_root = false); the capture then receives each partition's changes and"
                + " maps them to the root's stream, truncates of a partition included."));
    }
}
