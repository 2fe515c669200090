package io.sourcepostgres.capture;

import com.fasterxml.jackson.core.io.SerializedString;
import io.sourcepostgres.values.PgType;
import io.sourcepostgres.values.ValueEncoder;

/**
 * A column of a captured table as replication describes it, with the encoder of its values and its name
 * as a JSON field name, quoted and encoded once rather than for every row.
 */
public record CapturedColumn(String name, PgType type, int typmod, boolean replicaIdentityKey, ValueEncoder encoder,
        SerializedString jsonName) {

    public CapturedColumn(String name, PgType type, int typmod, boolean replicaIdentityKey, ValueEncoder encoder) {
        this(name, type, typmod, replicaIdentityKey, encoder, new SerializedString(name));
    }
}
