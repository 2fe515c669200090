package io.sourcepostgres.streams;

import io.sourcepostgres.airbyte.ConnectorException;
import io.sourcepostgres.discovery.DiscoveredTable;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Collection;

/**
 * Whether the user may read the columns a stream reads, when it may not read the whole table. With column
 * selection a database can grant SELECT on the selected columns only ({@code GRANT SELECT (id, name) ON t
 * TO capture}), so that even the connector's role cannot read the others: the capture then reads and emits
 * only what it was granted.
 */
public final class ColumnPrivileges {
    private ColumnPrivileges() {}

    static boolean cover(Connection query, DiscoveredTable table, Collection<String> columns) {
        if (!table.schemaUsage() || columns.isEmpty()) {
            return false;
        }
        try (PreparedStatement ps = query.prepareStatement("SELECT bool_and(pg_catalog.has_column_privilege(?::oid, c, "
                + "'SELECT')) FROM unnest(?::text[]) AS c")) {
            ps.setLong(1, table.oid());
            ps.setArray(2, query.createArrayOf("text", columns.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getBoolean(1);
            }
        } catch (SQLException e) {
            throw ConnectorException.transientError("Checking the column privileges on " + table.id() + " failed: "
                    + e.getMessage(), e);
        }
    }
}
