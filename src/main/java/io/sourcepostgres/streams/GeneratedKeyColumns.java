package io.sourcepostgres.streams;

import io.sourcepostgres.airbyte.StreamId;
import io.sourcepostgres.discovery.ColumnInfo;
import io.sourcepostgres.discovery.DiscoveredTable;
import io.sourcepostgres.postgres.Sql;
import java.util.List;
import java.util.stream.Collectors;

/**
 * A stream key with a generated column ({@code b int GENERATED ALWAYS AS (a / 2) STORED, PRIMARY KEY (a, b)})
 * can only be replicated when pgoutput sends generated columns: from PostgreSQL 18, and only for a publication
 * with {@code publish_generated_columns = stored}. Otherwise replicated records would lack part of their key
 * (a delete of a table whose whole key is generated would carry no column at all) while backfilled ones had
 * it, and a destination could not apply them.
 *
 * <p>Such a stream is refused rather than patched up: computing the column again means evaluating its
 * expression with the values of the change, which a delete does not carry (only the key's other columns
 * are in the WAL) and which gives other values once the expression is changed ({@code SET EXPRESSION},
 * PostgreSQL 17); reading it from the table gives the value of another moment, or nothing once the row is
 * gone. The refusal names the fixes.
 */
public final class GeneratedKeyColumns {
    private GeneratedKeyColumns() {}

    /** The generated columns among {@code key}, in key order. */
    static List<String> of(DiscoveredTable table, List<String> key) {
        return key.stream().filter(c -> table.column(c).map(ColumnInfo::generated).orElse(false)).toList();
    }

    /** Why the stream cannot be replicated, and the ways out; {@code generated} is not empty. */
    static String problem(StreamId stream, List<String> key, List<String> generated, String publication,
            int serverMajor) {
        List<String> others = key.stream().filter(c -> !generated.contains(c)).toList();
        String table = stream.quoted();
        StringBuilder sb = new StringBuilder("the key " + key + " of stream " + stream + " includes generated column"
                + (generated.size() == 1 ? " " : "s ") + generated + ", which ");
        sb.append(serverMajor < 18 ? "pgoutput does not send before PostgreSQL 18"
                : "publication \"" + publication + "\" does not send (publish_generated_columns is not stored)");
        sb.append(", so replicated records would lack part of their key and their updates and deletes could not be "
                + "applied. Fix one of: ");
        if (serverMajor >= 18) {
            sb.append("ALTER PUBLICATION ").append(Sql.identifier(publication))
                    .append(" SET (publish_generated_columns = stored); or ");
        }
        // On 18 the other key columns are no way out: PostgreSQL itself refuses UPDATE and DELETE on a published
        // table whose replica identity holds a generated column the publication does not send.
        if (!others.isEmpty() && serverMajor < 18) {
            sb.append("if ").append(others).append(" are unique by themselves, CREATE UNIQUE INDEX ON ").append(table)
                    .append(" (").append(others.stream().map(Sql::identifier).collect(Collectors.joining(", ")))
                    .append(") and set the stream's primary_key to ")
                    .append(others.stream().map(c -> "[\"" + c.replace("\\", "\\\\").replace("\"", "\\\"") + "\"]")
                            .collect(Collectors.joining(",", "[", "]")))
                    .append("; or ");
        }
        if (serverMajor >= 13) { // DROP EXPRESSION arrived in 13
            sb.append("make the column").append(generated.size() == 1 ? " " : "s ").append("ordinary (ALTER TABLE ")
                    .append(table).append(' ')
                    .append(generated.stream().map(c -> "ALTER COLUMN " + Sql.identifier(c) + " DROP EXPRESSION")
                            .collect(Collectors.joining(", ")))
                    .append(", then set it from the application or a trigger); or ");
        }
        sb.append("sync the stream as full_refresh");
        return sb.toString();
    }
}
