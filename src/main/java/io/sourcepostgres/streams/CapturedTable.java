package io.sourcepostgres.streams;

import io.sourcepostgres.airbyte.StreamId;
import java.util.List;

/**
 * A captured table as the latest Relation message described it.
 *
 * @param replicaIdentity {@code d} default (primary key), {@code f} full, {@code i} index, {@code n} nothing
 */
public record CapturedTable(int relationId, StreamId id, char replicaIdentity, List<CapturedColumn> columns, int[] keyIndexes) {

    /**
     * Whether the update moved the row to another primary key. Only answerable when the old tuple holds
     * every key column; pgoutput sends an old key tuple exactly when the replica identity key changed.
     */
    public boolean keyChanged(io.sourcepostgres.pgoutput.TupleData oldTuple, io.sourcepostgres.pgoutput.TupleData newTuple) {
        if (oldTuple == null || keyIndexes.length == 0) {
            return false;
        }
        for (int i : keyIndexes) {
            if (i >= oldTuple.size() || i >= newTuple.size()) {
                return false;
            }
            byte ok = oldTuple.kind(i);
            if (ok == io.sourcepostgres.pgoutput.TupleData.NULL || ok == io.sourcepostgres.pgoutput.TupleData.UNCHANGED_TOAST) {
                return false; // not sent: cannot tell
            }
        }
        for (int i : keyIndexes) {
            if (!java.util.Arrays.equals(oldTuple.buffer(), oldTuple.offset(i), oldTuple.offset(i) + oldTuple.length(i),
                    newTuple.buffer(), newTuple.offset(i), newTuple.offset(i) + newTuple.length(i))) {
                return true;
            }
        }
        return false;
    }

    /** Column names and types in order: two relations with the same shape need no schema-change report. */
    public String shape() {
        StringBuilder sb = new StringBuilder();
        for (CapturedColumn c : columns) {
            sb.append(c.name()).append(':').append(c.type().oid()).append('/').append(c.typmod())
                    .append(c.replicaIdentityKey() ? "k" : "").append(',');
        }
        return sb.toString();
    }
}
