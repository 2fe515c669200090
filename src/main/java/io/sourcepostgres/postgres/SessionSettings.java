package io.sourcepostgres.postgres;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * The session settings under which PostgreSQL's text output of every value is fixed, whatever the
 * server's or role's defaults. Applied to the query connection and to the replication connection alike:
 * the walsender formats pgoutput's text values with its own session's settings.
 */
public final class SessionSettings {
    /** Each entry: a GUC and the value that makes the text output canonical. */
    public static final List<String[]> CANONICAL = List.of(
            new String[] {"TimeZone", "UTC"},
            new String[] {"DateStyle", "ISO, YMD"},
            new String[] {"IntervalStyle", "iso_8601"},
            new String[] {"extra_float_digits", "3"},
            new String[] {"bytea_output", "hex"},
            new String[] {"lc_monetary", "C"},
            new String[] {"client_encoding", "UTF8"});

    private SessionSettings() {}

    public static void apply(Connection connection) throws SQLException {
        try (Statement st = connection.createStatement()) {
            StringBuilder sql = new StringBuilder();
            for (String[] setting : CANONICAL) {
                sql.append("SET ").append(setting[0]).append(" = '").append(setting[1]).append("';");
            }
            st.execute(sql.toString());
        }
    }
}
