package io.sourcepostgres.testing;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * What a destination holds after applying records in order, upsert by key and delete where
 * {@code _ab_cdc_deleted_at} is set, checked on the way: per key, {@code _ab_cdc_lsn} never decreases.
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
        Map<String, Long> lastLsn = new HashMap<>();
        for (JsonNode r : records) {
            JsonNode data = r.get("data");
            String k = key.apply(data);
            long lsn = data.get("_ab_cdc_lsn").asLong();
            Long before = lastLsn.put(k, lsn);
            assertThat(before == null || before <= lsn).as("_ab_cdc_lsn never decreases for key " + k).isTrue();
            if (data.get("_ab_cdc_deleted_at").isTextual()) {
                applied.remove(k);
            } else {
                applied.put(k, withoutCdc(data));
            }
        }
        return applied;
    }

    /** A record's data without the CDC fields: the row as the table holds it. */
    public static JsonNode withoutCdc(JsonNode data) {
        ObjectNode copy = data.deepCopy();
        copy.remove(CDC_FIELDS);
        return copy;
    }
}
