package io.sourcepostgres.values;

/** Resolves a type oid to its full description (element, base, labels), from the catalog or a cache. */
@FunctionalInterface
public interface TypeLookup {
    PgType byOid(long oid);
}
