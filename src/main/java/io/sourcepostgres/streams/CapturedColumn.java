package io.sourcepostgres.streams;

import com.fasterxml.jackson.core.io.SerializedString;
import io.sourcepostgres.values.PgType;
import io.sourcepostgres.values.ValueEncoder;

/**
 * A column of a captured table as replication describes it, with the encoder of its values and its name
 * as a JSON field name, quoted and encoded once rather than for every row.
 *
 * @param emitted false for a column the configured stream did not select (Airbyte's column selection):
 *     replication still receives it (pgoutput sends whole rows), but it is never written to a record
 */
public record CapturedColumn(String name, PgType type, int typmod, boolean replicaIdentityKey, ValueEncoder encoder,
        SerializedString jsonName, boolean emitted) {

    public CapturedColumn(String name, PgType type, int typmod, boolean replicaIdentityKey, ValueEncoder encoder) {
        this(name, type, typmod, replicaIdentityKey, encoder, new SerializedString(name), true);
    }

    /** This column, left out of every record. */
    public CapturedColumn unselected() {
        return new CapturedColumn(name, type, typmod, replicaIdentityKey, encoder, jsonName, false);
    }
}
