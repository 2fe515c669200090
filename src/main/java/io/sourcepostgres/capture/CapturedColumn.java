package io.sourcepostgres.capture;

import io.sourcepostgres.values.PgType;
import io.sourcepostgres.values.ValueEncoder;

/** A column of a captured table as replication describes it, with the encoder of its values. */
public record CapturedColumn(String name, PgType type, int typmod, boolean replicaIdentityKey, ValueEncoder encoder) {}
