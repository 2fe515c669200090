package io.sourcepostgres.values;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;

/**
 * Writes one PostgreSQL value as JSON, from the value's text output under the canonical session settings
 * (see {@code postgres.SessionSettings}). Both the backfill and the replication path hand values to the
 * same encoder as UTF-8 bytes, so a row produces the same JSON whichever path it arrives by.
 */
public interface ValueEncoder {
    /**
     * Writes the JSON value for the text in {@code utf8[offset, offset + length)}; the caller has already
     * written the field name. Returns false when the value cannot be represented in JSON (NaN, Infinity)
     * and null was written instead: the caller then records a {@code meta.changes} entry for the field.
     */
    boolean write(JsonGenerator out, byte[] utf8, int offset, int length) throws IOException;
}
