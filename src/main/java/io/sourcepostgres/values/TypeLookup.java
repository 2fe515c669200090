package io.sourcepostgres.values;

import java.util.Optional;

/** Resolves a type oid to its full description (element, base, labels), from the catalog or a cache. */
@FunctionalInterface
public interface TypeLookup {
    PgType byOid(long oid);

    /**
     * The type, or empty when the catalog no longer has it. Replication decodes changes written in the past:
     * a type may have been dropped since (a column altered to another type, then {@code DROP TYPE}), while
     * the walsender, reading the catalog as of each change, still sends that type's oid and the value's text.
     */
    default Optional<PgType> find(long oid) {
        return Optional.of(byOid(oid));
    }
}
