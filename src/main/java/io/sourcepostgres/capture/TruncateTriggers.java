package io.sourcepostgres.capture;

import io.sourcepostgres.airbyte.ConnectorException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * Whether a table has the README's trigger that makes a TRUNCATE exact: {@code BEFORE TRUNCATE ... FOR EACH
 * STATEMENT EXECUTE FUNCTION source_postgres_truncate_as_delete()}, which deletes every row first, in the
 * truncating transaction. Those deletes reach the WAL row by row and are emitted as delete records, so the
 * TRUNCATE that follows removes nothing the destination still holds.
 */
final class TruncateTriggers {
    static final String FUNCTION = "source_postgres_truncate_as_delete";
    /** pg_trigger.tgtype: BEFORE (2) and TRUNCATE (32), statement level (bit 1 clear). */
    private static final int BEFORE_TRUNCATE = 2 | 32;

    private final Connection query;

    TruncateTriggers(Connection query) {
        this.query = query;
    }

    /** Whether relation {@code relid} has the trigger, enabled. */
    boolean deletesFirst(int relid) {
        try (PreparedStatement ps = query.prepareStatement("SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger t "
                + "JOIN pg_catalog.pg_proc p ON p.oid = t.tgfoid WHERE t.tgrelid = ?::oid AND p.proname = ? "
                + "AND t.tgenabled <> 'D' AND (t.tgtype::int & ?) = ? AND (t.tgtype::int & 1) = 0)")) {
            ps.setLong(1, Integer.toUnsignedLong(relid));
            ps.setString(2, FUNCTION);
            ps.setInt(3, BEFORE_TRUNCATE);
            ps.setInt(4, BEFORE_TRUNCATE);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getBoolean(1);
            }
        } catch (SQLException e) {
            throw ConnectorException.transientError("Looking up the TRUNCATE triggers of relation "
                    + Integer.toUnsignedString(relid) + " failed: " + e.getMessage(), e);
        }
    }
}
