package io.sourcepostgres.backfill;

import io.sourcepostgres.state.StreamProgress;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcepostgres.airbyte.Json;
import java.util.Optional;

/**
 * The scan key a backfill's resume value belongs to, as the state records it: each key column's name, type and
 * collation, in key order. A resume value means "every row up to here is emitted" only under the order it was
 * taken in; read under another key (the catalog's primary_key changed, a key column's type or collation changed)
 * it points to an unrelated place in the table and rows would be skipped. So a stream whose recorded key differs
 * from the one planned now starts its backfill over.
 */
public final class ScanKeyRecord {
    private ScanKeyRecord() {}

    static ArrayNode of(BackfillPlan plan) {
        ArrayNode key = Json.MAPPER.createArrayNode();
        for (ScanKeyColumn k : plan.key()) {
            ObjectNode column = key.addObject();
            column.put("column", k.name());
            column.put("type", k.column().type().sqlName());
            if (k.collation() != null) {
                column.put("collation", k.collation());
            }
        }
        return key;
    }

    /**
     * Why {@code progress}'s resume value cannot be used with {@code plan}'s scan key; empty when it can. A state
     * written before the key was recorded has none: its resume value is trusted when it has one value per
     * current key column (what every earlier version assumed; changing the key in the same step as upgrading the
     * connector is the one case this cannot see), and is not otherwise.
     */
    public static Optional<String> mismatch(StreamProgress progress, BackfillPlan plan) {
        JsonNode resume = progress.resumeAfter();
        if (progress.scanKey() == null) {
            if (resume != null && resume.size() != plan.key().size()) {
                return Optional.of("its resume value has " + resume.size() + " column(s) but the scan key "
                        + plan.keyColumnNames() + " has " + plan.key().size());
            }
            return Optional.empty();
        }
        ArrayNode now = of(plan);
        if (!now.equals(progress.scanKey())) {
            return Optional.of("the state's backfill position belongs to the scan key " + describe(progress.scanKey())
                    + ", but the scan key is now " + describe(now));
        }
        return Optional.empty();
    }

    private static String describe(JsonNode key) {
        StringBuilder sb = new StringBuilder("(");
        for (JsonNode c : key) {
            if (sb.length() > 1) {
                sb.append(", ");
            }
            sb.append(c.path("column").asText()).append(' ').append(c.path("type").asText());
            if (c.hasNonNull("collation")) {
                sb.append(" COLLATE ").append(c.get("collation").asText());
            }
        }
        return sb.append(')').toString();
    }
}
