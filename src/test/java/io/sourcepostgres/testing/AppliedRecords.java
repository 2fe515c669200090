package io.sourcepostgres.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * The one record applier of the tests: what a destination holds after applying records in order, upsert
 * by key and delete where {@code _ab_cdc_deleted_at} is set, checked on the way: per key, {@code _ab_cdc_lsn}
 * never decreases. {@link #apply} holds the result in memory; {@link Destination} applies the same rules
 * ({@link #isDelete}, {@link LsnOrder}) to tables of a second database.
 */
public final class AppliedRecords {
    private static final List<String> CDC_FIELDS = List.of("_ab_cdc_lsn", "_ab_cdc_updated_at", "_ab_cdc_deleted_at");

    private AppliedRecords() {}

    /**
     * @param records RECORD payloads ({@code record} objects with {@code data}), in output order
     * @param key a record's {@code data} to its key
     * @return per key, the last row image without the CDC fields, ordered by key
     */
    public static Map<String, JsonNode> apply(List<JsonNode> records, Function<JsonNode, String> key) {
        Map<String, JsonNode> applied = new TreeMap<>();
        LsnOrder order = new LsnOrder();
        for (JsonNode r : records) {
            JsonNode data = r.get("data");
            String k = key.apply(data);
            order.check(k, r);
            if (isDelete(data)) {
                applied.remove(k);
            } else {
                applied.put(k, withoutCdc(data));
            }
        }
        return applied;
    }

    /** Whether a record's data is a delete: {@code _ab_cdc_deleted_at} holds a time. */
    public static boolean isDelete(JsonNode data) {
        return data.hasNonNull("_ab_cdc_deleted_at");
    }

    /** A record's data without the CDC fields: the row as the table holds it. */
    public static JsonNode withoutCdc(JsonNode data) {
        ObjectNode copy = data.deepCopy();
        copy.remove(CDC_FIELDS);
        return copy;
    }

    /** The per-key order guarantee, checked record by record: for each key, {@code _ab_cdc_lsn} never decreases. */
    public static final class LsnOrder {
        private final Map<String, Long> lastLsn = new HashMap<>();

        /** Fails when {@code record}'s {@code _ab_cdc_lsn} is below the last one seen for {@code key}. */
        public void check(String key, JsonNode record) {
            long lsn = record.at("/data/_ab_cdc_lsn").asLong();
            Long previous = lastLsn.put(key, lsn);
            if (previous != null && Long.compareUnsigned(lsn, previous) < 0) {
                throw new AssertionError("_ab_cdc_lsn went back for key " + key + ": " + previous + " then " + lsn
                        + "\n  " + record);
            }
        }
    }
}
