package io.sourcepostgres.discovery;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcepostgres.values.PgType;
import io.sourcepostgres.values.TypeFamily;
import io.sourcepostgres.values.TypeSchemas;

/**
 * One column of a table as {@code pg_attribute} describes it, its type resolved.
 *
 * @param name the column name exactly as PostgreSQL spells it
 * @param attnum its position ({@code attnum}); columns are listed in this order
 * @param type its resolved type (domains, arrays and enums followed)
 * @param typmod {@code atttypmod}: numeric precision/scale, varchar length..., -1 when none (a domain's own
 *     typmod is in {@link PgType#domainTypmod()}, see {@link PgType#effectiveTypmod})
 * @param dimensions {@code attndims}: the array dimensions the column was declared with (0 when not
 *     declared; PostgreSQL does not enforce it)
 * @param notNull {@code attnotnull}
 * @param generated a generated column ({@code attgenerated}): its value is computed by the server, and
 *     before PostgreSQL 18 pgoutput never sends it
 */
public record ColumnInfo(String name, int attnum, PgType type, int typmod, int dimensions, boolean notNull,
        boolean generated) {

    public TypeFamily family() {
        return TypeFamily.of(type);
    }

    /** This column's JSON Schema (TYPES.md), nullability included. */
    public ObjectNode jsonSchema() {
        return TypeSchemas.column(type, typmod, dimensions, notNull);
    }
}
