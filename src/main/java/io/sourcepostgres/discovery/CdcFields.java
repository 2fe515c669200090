package io.sourcepostgres.discovery;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/** The Airbyte CDC metadata fields every record carries beside the table's columns (PRODUCT.md "Records"). */
public final class CdcFields {
    /** The change's WAL position as an integer; also every stream's cursor. */
    public static final String LSN = "_ab_cdc_lsn";
    /** Commit time of the change (for backfilled rows, the time of the read), RFC 3339 in UTC. */
    public static final String UPDATED_AT = "_ab_cdc_updated_at";
    /** Commit time of a delete; null otherwise. */
    public static final String DELETED_AT = "_ab_cdc_deleted_at";

    public static final List<String> NAMES = List.of(LSN, UPDATED_AT, DELETED_AT);

    private CdcFields() {}

    /** Adds the metadata fields' schemas to a stream schema's {@code properties}. */
    static void addTo(ObjectNode properties) {
        properties.putObject(LSN).put("type", "number");
        properties.putObject(UPDATED_AT).put("type", "string").put("format", "date-time");
        ObjectNode deletedAt = properties.putObject(DELETED_AT);
        deletedAt.putArray("type").add("string").add("null");
        deletedAt.put("format", "date-time");
    }
}
