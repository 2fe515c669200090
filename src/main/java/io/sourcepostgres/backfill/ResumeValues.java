package io.sourcepostgres.backfill;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcepostgres.airbyte.ConnectorException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** Reads a {@code resume_after} from the state back into the key's text values, refusing one that does not fit. */
final class ResumeValues {
    private ResumeValues() {}

    /** The values in key order (null for NULL), or null to start at the first row. */
    static List<String> of(BackfillPlan plan, JsonNode resumeAfter) {
        if (resumeAfter == null || resumeAfter.isNull() || resumeAfter.isMissingNode()) {
            return null;
        }
        List<ScanKeyColumn> key = plan.key();
        if (!resumeAfter.isArray() || resumeAfter.size() != key.size()) {
            throw misfit(plan, "it is not an array of " + key.size() + " value" + (key.size() == 1 ? "" : "s"));
        }
        List<String> values = new ArrayList<>(key.size());
        for (int i = 0; i < key.size(); i++) {
            JsonNode v = resumeAfter.get(i);
            if (v.isNull()) {
                if (!key.get(i).nullable()) {
                    throw misfit(plan, "it has null for column \"" + key.get(i).name() + "\", which is NOT NULL");
                }
                values.add(null);
            } else if (v.isTextual()) {
                values.add(v.textValue());
            } else {
                throw misfit(plan, "its value for column \"" + key.get(i).name() + "\" is not a string");
            }
        }
        return Collections.unmodifiableList(values);
    }

    private static ConnectorException misfit(BackfillPlan plan, String why) {
        return ConnectorException.config("The state's backfill position (resume_after) for table " + plan.table().id()
                + " does not fit its scan key " + plan.keyColumnNames() + ": " + why + ". Was the state written for "
                + "another primary_key? Remove the stream's entry from the state to backfill it from the start.");
    }
}
