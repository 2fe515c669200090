package io.sourcepostgres.capture;

import io.sourcepostgres.streams.CapturedColumn;
import io.sourcepostgres.streams.CapturedTable;
import io.sourcepostgres.airbyte.StreamId;
import io.sourcepostgres.pgoutput.TupleData;
import io.sourcepostgres.postgres.SqlFailures;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Fills in the values PostgreSQL leaves out of an UPDATE: a TOASTed column that did not change is sent
 * as "unchanged" ('u') with no value. Under REPLICA IDENTITY FULL the old row carries it; otherwise the
 * current value is read from the table by primary key — one indexed query per such update, which can be
 * newer than the update itself when the row changed again since (the later change is emitted too, so the
 * destination ends up right). A row deleted since has no value to read: the column is then null and
 * flagged in {@code meta.changes}, never a silent null.
 */
public final class UnchangedToastValues {
    private final Connection query;
    private final Map<String, String> sqlByShape = new HashMap<>();

    public UnchangedToastValues(Connection query) {
        this.query = query;
    }

    /** Whether the tuple has values that were not sent. */
    public static boolean hasUnchanged(TupleData tuple) {
        for (int i = 0; i < tuple.size(); i++) {
            if (tuple.isUnchangedToast(i)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The new tuple with every unchanged value filled in. Values that cannot be recovered are returned as
     * NULL and listed in {@code unrecoverable}.
     */
    public TupleData resolve(CapturedTable table, TupleData oldTuple, TupleData newTuple, List<String> unrecoverable) {
        int n = newTuple.size();
        byte[][] values = new byte[n][];
        byte[] kinds = new byte[n];
        List<Integer> missing = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            kinds[i] = newTuple.kind(i);
            if (newTuple.isUnchangedToast(i) && i < table.columns().size() && !table.columns().get(i).emitted()) {
                kinds[i] = TupleData.NULL; // an unselected column is never written, so never read either
            } else if (newTuple.isUnchangedToast(i)) {
                if (oldTuple != null && i < oldTuple.size() && (oldTuple.kind(i) == TupleData.TEXT || oldTuple.kind(i) == TupleData.BINARY)) {
                    kinds[i] = oldTuple.kind(i);
                    values[i] = oldTuple.bytes(i);
                } else {
                    missing.add(i);
                }
            } else if (kinds[i] == TupleData.TEXT || kinds[i] == TupleData.BINARY) {
                values[i] = newTuple.bytes(i);
            }
        }
        if (!missing.isEmpty()) {
            fetch(table, newTuple, missing, kinds, values, unrecoverable);
        }
        return TupleData.of(kinds, values);
    }

    private void fetch(CapturedTable table, TupleData newTuple, List<Integer> missing, byte[] kinds, byte[][] values,
            List<String> unrecoverable) {
        List<CapturedColumn> columns = table.columns();
        if (table.keyIndexes().length == 0) {
            nullOut(columns, missing, kinds, unrecoverable);
            return;
        }
        String sql = sqlByShape.computeIfAbsent(table.id() + "|" + missing + "|" + table.shape(), k -> sql(table, missing));
        try (PreparedStatement ps = query.prepareStatement(sql)) {
            int p = 1;
            for (int k : table.keyIndexes()) {
                ps.setString(p++, newTuple.text(k));
            }
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    nullOut(columns, missing, kinds, unrecoverable);
                    return;
                }
                for (int m = 0; m < missing.size(); m++) {
                    int i = missing.get(m);
                    String text = rs.getString(m + 1);
                    if (text == null) {
                        kinds[i] = TupleData.NULL;
                    } else {
                        kinds[i] = TupleData.TEXT;
                        values[i] = text.getBytes(StandardCharsets.UTF_8);
                    }
                }
            }
        } catch (SQLException e) {
            throw SqlFailures.failure("Reading the unchanged TOASTed values of a row of " + table.id(), e);
        }
    }

    private static String sql(CapturedTable table, List<Integer> missing) {
        StringBuilder sql = new StringBuilder("SELECT ");
        for (int m = 0; m < missing.size(); m++) {
            // format('%s') is the type's output function: the same text pgoutput would have sent.
            sql.append(m > 0 ? ", " : "").append("pg_catalog.format('%s', ")
                    .append(StreamId.quoteIdentifier(table.columns().get(missing.get(m)).name())).append(')');
        }
        sql.append(" FROM ").append(table.id().quoted()).append(" WHERE ");
        int[] keys = table.keyIndexes();
        for (int k = 0; k < keys.length; k++) {
            CapturedColumn c = table.columns().get(keys[k]);
            sql.append(k > 0 ? " AND " : "").append(StreamId.quoteIdentifier(c.name())).append(" = CAST(? AS ")
                    .append(c.type().sqlName()).append(')');
        }
        return sql.toString();
    }

    private static void nullOut(List<CapturedColumn> columns, List<Integer> missing, byte[] kinds, List<String> unrecoverable) {
        for (int i : missing) {
            kinds[i] = TupleData.NULL;
            unrecoverable.add(columns.get(i).name());
        }
    }
}
