package io.sourcepostgres.postgres;

import io.sourcepostgres.airbyte.StreamId;

/**
 * Quoting for SQL text. Queries bind every value; these are for the few places that cannot: DDL names
 * (CREATE PUBLICATION) and the SQL a message tells the user to run.
 */
public final class Sql {
    private Sql() {}

    /** A quoted identifier, e.g. {@code "My ""Table"""}. */
    public static String identifier(String name) {
        return StreamId.quoteIdentifier(name);
    }

    /**
     * A string literal, e.g. {@code 'it''s'}, valid under standard_conforming_strings (the default since 9.1);
     * an escape string literal when the text holds a backslash, so that it is right under either setting.
     */
    public static String literal(String value) {
        String quoted = "'" + value.replace("'", "''") + "'";
        return value.indexOf('\\') < 0 ? quoted : "E" + quoted.replace("\\", "\\\\");
    }
}
