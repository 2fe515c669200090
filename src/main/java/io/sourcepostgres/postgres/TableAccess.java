package io.sourcepostgres.postgres;

import io.sourcepostgres.airbyte.StreamId;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * Whether the current role can read a published table completely: USAGE on its schema, SELECT on the
 * table, and no row-level security policy hiding rows from it. A backfill that reads through a policy
 * would silently miss rows that replication later sends, so that counts as unreadable too.
 */
public record TableAccess(StreamId table, boolean schemaUsage, boolean select, boolean rowSecurityApplies) {

    public boolean readable() {
        return schemaUsage && select && !rowSecurityApplies;
    }

    /** The published tables of {@code publication} that the current role cannot read completely, by name. */
    public static List<TableAccess> unreadable(Connection c, String publication, boolean bypassesRowSecurity)
            throws SQLException {
        // Owners are exempt from their tables' policies unless FORCE ROW LEVEL SECURITY is set; USAGE on the
        // owner role is exactly "has the owner's privileges" (pg_class_ownercheck).
        String sql = "SELECT n.nspname, c.relname,"
                + " has_schema_privilege(n.oid, 'USAGE'),"
                + " has_table_privilege(c.oid, 'SELECT'),"
                + " c.relrowsecurity AND (c.relforcerowsecurity OR NOT pg_has_role(c.relowner, 'USAGE'))"
                + " FROM pg_catalog.pg_publication_tables pt"
                + " JOIN pg_catalog.pg_namespace n ON n.nspname = pt.schemaname"
                + " JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = pt.tablename"
                + " WHERE pt.pubname = ? ORDER BY n.nspname, c.relname";
        List<TableAccess> unreadable = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, publication);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    TableAccess access = new TableAccess(new StreamId(rs.getString(1), rs.getString(2)),
                            rs.getBoolean(3), rs.getBoolean(4), rs.getBoolean(5) && !bypassesRowSecurity);
                    if (!access.readable()) {
                        unreadable.add(access);
                    }
                }
            }
        }
        return unreadable;
    }
}
