package io.sourcepostgres.postgres;

import java.util.ArrayList;
import java.util.List;

/**
 * One row of {@code pg_publication}: which tables and which kinds of change it publishes.
 *
 * @param viaRoot publish_via_partition_root (PostgreSQL 13+; always false on 12)
 */
public record Publication(
        String name,
        boolean allTables,
        boolean publishesInsert,
        boolean publishesUpdate,
        boolean publishesDelete,
        boolean publishesTruncate,
        boolean viaRoot) {

    /** The row changes a capture needs that this publication leaves out, e.g. ["update", "delete"]. */
    public List<String> missingChangeKinds() {
        List<String> missing = new ArrayList<>();
        if (!publishesInsert) {
            missing.add("insert");
        }
        if (!publishesUpdate) {
            missing.add("update");
        }
        if (!publishesDelete) {
            missing.add("delete");
        }
        return missing;
    }
}
