package io.sourcepostgres.streams;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.io.SerializedString;
import io.sourcepostgres.airbyte.AirbyteOutput;
import io.sourcepostgres.airbyte.MetaChange;
import io.sourcepostgres.airbyte.RecordSink;
import io.sourcepostgres.pgoutput.TupleData;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes one row image as a RECORD (a replicated change or a backfilled row), straight from its tuple bytes
 * into the record sink: column values through their encoders, then the CDC metadata fields.
 */
public final class ChangeRecordWriter {
    public static final String LSN_FIELD = "_ab_cdc_lsn";
    public static final String UPDATED_AT_FIELD = "_ab_cdc_updated_at";
    public static final String DELETED_AT_FIELD = "_ab_cdc_deleted_at";
    private static final SerializedString LSN_NAME = new SerializedString(LSN_FIELD);
    private static final SerializedString UPDATED_AT_NAME = new SerializedString(UPDATED_AT_FIELD);
    private static final SerializedString DELETED_AT_NAME = new SerializedString(DELETED_AT_FIELD);

    private final RecordSink sink;
    private final List<MetaChange> changes = new ArrayList<>();
    private final RecordSink.Data fields = this::writeFields;
    // The record being written, for writeFields (bound once above, so a record allocates no lambda).
    private CapturedTable table;
    private TupleData tuple;
    private boolean keyOnly;
    private long lsn;
    private String commitTime;
    private boolean delete;

    public ChangeRecordWriter(AirbyteOutput out) {
        this.sink = out.records();
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

    /**
     * As above; {@code unrecoverable} names columns written as null because their value could not be read.
     * The record is written whole or not at all: a value that fails to encode drops it and the failure goes on.
     */
    public void write(CapturedTable table, TupleData tuple, boolean keyOnly, long lsn, String commitTime, boolean delete,
            long emittedAt, List<String> unrecoverable) {
        changes.clear();
        for (int i = 0; i < unrecoverable.size(); i++) { // indexed: no iterator per record
            changes.add(new MetaChange(unrecoverable.get(i), "NULLED", "SOURCE_RETRIEVAL_ERROR"));
        }
        this.table = table;
        this.tuple = tuple;
        this.keyOnly = keyOnly;
        this.lsn = lsn;
        this.commitTime = commitTime;
        this.delete = delete;
        try {
            sink.write(table.id(), emittedAt, fields, changes);
        } finally {
            this.tuple = null; // do not keep a row alive after its record
        }
    }

    private void writeFields(JsonGenerator g) throws IOException {
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
    }
}
