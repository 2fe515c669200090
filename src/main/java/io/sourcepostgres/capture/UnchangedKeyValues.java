package io.sourcepostgres.capture;

import io.sourcepostgres.streams.CapturedTable;
import io.sourcepostgres.airbyte.ConnectorException;
import io.sourcepostgres.pgoutput.TupleData;

/**
 * Gives an UPDATE's new tuple the key values PostgreSQL left out of it. A key column stored out of line
 * ({@code ALTER TABLE … ALTER k SET STORAGE EXTERNAL}, or a long value compressed and moved to TOAST) that
 * the UPDATE did not change arrives as "unchanged TOAST" ({@code 'u'}, no value). Exactly then PostgreSQL
 * also logs the old key, flattened, even though the key did not change (a replica identity with external
 * values is always logged: the 2022 minor releases of every version from 10 on), so the old tuple holds the
 * value, and {@code 'u'} in a key column means "equal to the old key's value".
 *
 * <p>This runs before anything reads the key of the new tuple (the key-change test, the backfill merge, the
 * record), so such an update is neither taken for a key change (a delete plus an upsert) nor a key without
 * a value.
 */
final class UnchangedKeyValues {
    private UnchangedKeyValues() {}

    /**
     * {@code newTuple} with each unchanged-TOAST key column taken from {@code oldTuple}; {@code newTuple}
     * itself (no copy) when no key column is unchanged TOAST.
     *
     * @throws ConnectorException a config error when the old tuple does not hold such a column: the stream's
     *     key is then not (within) the table's replica identity, and the row's key cannot be told
     */
    static TupleData fill(CapturedTable table, TupleData oldTuple, TupleData newTuple) {
        int[] keys = table.keyIndexes();
        boolean any = false;
        for (int k : keys) {
            if (k < newTuple.size() && newTuple.isUnchangedToast(k)) {
                any = true;
                if (oldTuple == null || k >= oldTuple.size()
                        || (oldTuple.kind(k) != TupleData.TEXT && oldTuple.kind(k) != TupleData.BINARY)) {
                    String column = table.columns().get(k).name();
                    throw ConnectorException.config("An UPDATE of " + table.id() + " left its key column \"" + column
                            + "\" stored out of line and unchanged, and PostgreSQL sent no old value for it because the "
                            + "column is not part of the table's replica identity: the row's key cannot be told. Fix: "
                            + "ALTER TABLE " + table.id().quoted() + " REPLICA IDENTITY FULL; or make the stream's "
                            + "primary_key the table's primary key (or replica identity index).", null);
                }
            }
        }
        if (!any) {
            return newTuple;
        }
        int n = newTuple.size();
        byte[] kinds = new byte[n];
        int[] offsets = new int[n];
        int[] lengths = new int[n];
        int total = 0;
        for (int i = 0; i < n; i++) {
            TupleData from = fromOld(keys, newTuple, i) ? oldTuple : newTuple;
            total += from.length(i);
        }
        byte[] buffer = new byte[total];
        int pos = 0;
        for (int i = 0; i < n; i++) {
            TupleData from = fromOld(keys, newTuple, i) ? oldTuple : newTuple;
            kinds[i] = from.kind(i);
            offsets[i] = pos;
            lengths[i] = from.length(i);
            System.arraycopy(from.buffer(), from.offset(i), buffer, pos, lengths[i]);
            pos += lengths[i];
        }
        return new TupleData(buffer, kinds, offsets, lengths);
    }

    private static boolean fromOld(int[] keys, TupleData newTuple, int column) {
        if (!newTuple.isUnchangedToast(column)) {
            return false;
        }
        for (int k : keys) {
            if (k == column) {
                return true;
            }
        }
        return false;
    }
}
