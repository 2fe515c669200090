package io.sourcepostgres.capture;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.io.SerializedString;
import io.sourcepostgres.airbyte.AirbyteOutput;
import io.sourcepostgres.airbyte.MetaChange;
import io.sourcepostgres.pgoutput.TupleData;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes one replicated row change as a RECORD, straight from the received tuple bytes into the output
 * buffer: column values through their encoders, then the CDC metadata fields.
 */
public final class ChangeRecordWriter {
    public static final String LSN_FIELD = "_ab_cdc_lsn";
    public static final String UPDATED_AT_FIELD = "_ab_cdc_updated_at";
    public static final String DELETED_AT_FIELD = "_ab_cdc_deleted_at";
    private static final SerializedString LSN_NAME = new SerializedString(LSN_FIELD);
    private static final SerializedString UPDATED_AT_NAME = new SerializedString(UPDATED_AT_FIELD);
    private static final SerializedString DELETED_AT_NAME = new SerializedString(DELETED_AT_FIELD);

    private final AirbyteOutput out;
    private final List<MetaChange> changes = new ArrayList<>();

    public ChangeRecordWriter(AirbyteOutput out) {
        this.out = out;
    }

    /**
     * @param tuple the row image (the new row, or for a delete the old row or key)
     * @param keyOnly true for an old-key tuple ('K'): PostgreSQL sends only the replica identity columns and
     *     marks the others null, so those are left out rather than written as nulls that never were
     * @param lsn the change's WAL position
     * @param commitTime the transaction's commit time, RFC 3339 UTC
     * @param delete whether the row was deleted
     */
    public void write(CapturedTable table, TupleData tuple, boolean keyOnly, long lsn, String commitTime, boolean delete,
            long emittedAt) {
        write(table, tuple, keyOnly, lsn, commitTime, delete, emittedAt, List.of());
    }

    /** As above; {@code unrecoverable} names columns written as null because their value could not be read. */
    public void write(CapturedTable table, TupleData tuple, boolean keyOnly, long lsn, String commitTime, boolean delete,
            long emittedAt, List<String> unrecoverable) {
        JsonGenerator g = out.beginRecord(table.id(), emittedAt);
        changes.clear();
        for (String column : unrecoverable) {
            changes.add(new MetaChange(column, "NULLED", "SOURCE_RETRIEVAL_ERROR"));
        }
        try {
            List<CapturedColumn> columns = table.columns();
            int n = Math.min(columns.size(), tuple.size());
            for (int i = 0; i < n; i++) {
                CapturedColumn c = columns.get(i);
                byte kind = tuple.kind(i);
                if (!c.emitted() || (keyOnly && kind == TupleData.NULL)) {
                    continue;
                }
                if (kind == TupleData.UNCHANGED_TOAST) {
                    throw new IllegalStateException("unresolved unchanged TOAST value in column " + c.name()
                            + " of " + table.id() + " reached the record writer");
                }
                g.writeFieldName(c.jsonName());
                if (kind == TupleData.NULL) {
                    g.writeNull();
                } else if (!c.encoder().write(g, tuple.buffer(), tuple.offset(i), tuple.length(i))) {
                    changes.add(MetaChange.nulledUnrepresentable(c.name()));
                }
            }
            g.writeFieldName(LSN_NAME);
            g.writeNumber(lsn);
            g.writeFieldName(UPDATED_AT_NAME);
            g.writeString(commitTime);
            g.writeFieldName(DELETED_AT_NAME);
            if (delete) {
                g.writeString(commitTime);
            } else {
                g.writeNull();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        out.endRecord(changes);
    }
}
