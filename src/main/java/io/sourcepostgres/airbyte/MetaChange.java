package io.sourcepostgres.airbyte;

/** One entry of a record's {@code meta.changes}: a field whose value could not be carried as is. */
public record MetaChange(String field, String change, String reason) {
    /** A value JSON cannot hold (NaN, Infinity) that was replaced by null. */
    public static MetaChange nulledUnrepresentable(String field) {
        return new MetaChange(field, "NULLED", "SOURCE_SERIALIZATION_ERROR");
    }
}
