package io.sourcepostgres.airbyte;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * Airbyte's column selection: a configured stream's {@code json_schema} lists the fields the user kept.
 * Columns it leaves out (often personal data) must never leave the database. A schema without a
 * {@code properties} object selects nothing in particular, so every column is captured (what a hand-written
 * catalog with {@code {"type":"object"}} means). The CDC metadata fields are not columns and are ignored here.
 */
public final class ColumnSelection {
    private ColumnSelection() {}

    /** The selected column names, or null when the schema selects every column. */
    public static Set<String> of(JsonNode jsonSchema) {
        if (jsonSchema == null || !jsonSchema.path("properties").isObject()) {
            return null;
        }
        Set<String> columns = new LinkedHashSet<>();
        for (Iterator<String> it = jsonSchema.get("properties").fieldNames(); it.hasNext(); ) {
            String name = it.next();
            if (!name.startsWith("_ab_cdc_")) {
                columns.add(name);
            }
        }
        return Collections.unmodifiableSet(columns);
    }
}
