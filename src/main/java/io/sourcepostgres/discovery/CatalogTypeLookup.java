package io.sourcepostgres.discovery;

import io.sourcepostgres.airbyte.ConnectorException;
import io.sourcepostgres.postgres.SqlFailures;
import io.sourcepostgres.values.PgType;
import io.sourcepostgres.values.TypeLookup;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Resolves type oids through the catalog on first sight and remembers them. Replication meets a type
 * oid in every Relation message; a table altered to a new type while streaming brings a new oid here.
 */
public final class CatalogTypeLookup implements TypeLookup {
    private final Connection connection;
    private final Map<Long, PgType> cache = new HashMap<>();

    public CatalogTypeLookup(Connection connection) {
        this.connection = connection;
    }

    @Override
    public PgType byOid(long oid) {
        return find(oid).orElseThrow(() -> ConnectorException.system("Type oid " + oid + " is not in pg_type", null));
    }

    @Override
    public Optional<PgType> find(long oid) {
        PgType known = cache.get(oid);
        if (known != null) {
            return Optional.of(known);
        }
        try {
            cache.putAll(TypeResolver.resolve(connection, List.of(oid)));
        } catch (SQLException e) {
            throw SqlFailures.failure("Looking up type " + oid + " in the catalog", e);
        }
        return Optional.ofNullable(cache.get(oid));
    }
}
