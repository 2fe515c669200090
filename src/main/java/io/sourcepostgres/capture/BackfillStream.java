package io.sourcepostgres.capture;

import io.sourcepostgres.airbyte.StreamId;
import io.sourcepostgres.backfill.BackfillPlan;
import io.sourcepostgres.discovery.ColumnInfo;
import io.sourcepostgres.values.ValueEncoders;
import java.util.ArrayList;
import java.util.List;

/** A stream being backfilled: its plan, and the table shape its chunk rows are written with. */
final class BackfillStream {
    final StreamId id;
    final BackfillPlan plan;
    final CapturedTable shape;
    final boolean replicated;
    /** Read by physical location ({@code ctid} pages) because the table has no key: see {@link KeylessBackfills}. */
    final boolean keyless;
    final long estimatedRows;
    long rowsDone;
    private final long rowsAtStart;
    final long startedNanos = System.nanoTime();
    /** For a full refresh (not replicated, not resumable across runs): where this run's scan is. */
    com.fasterxml.jackson.databind.JsonNode fullRefreshResume;
    /** The scan key the state records beside each resume value ({@link ScanKeyRecord}). */
    final com.fasterxml.jackson.databind.JsonNode scanKey;

    BackfillStream(StreamId id, BackfillPlan plan, boolean replicated, long estimatedRows, long rowsDone) {
        this.id = id;
        this.plan = plan;
        this.replicated = replicated;
        this.keyless = plan.key().isEmpty();
        this.estimatedRows = estimatedRows;
        this.rowsDone = rowsDone;
        this.rowsAtStart = rowsDone;
        this.scanKey = ScanKeyRecord.of(plan);
        List<CapturedColumn> columns = new ArrayList<>();
        for (ColumnInfo c : plan.columns()) {
            columns.add(new CapturedColumn(c.name(), c.type(), c.typmod(), false, ValueEncoders.forType(c.type(), c.typmod())));
        }
        this.shape = new CapturedTable(0, id, 'd', List.copyOf(columns), plan.keyPositions());
    }

    long rowsDoneThisRun() {
        return rowsDone - rowsAtStart;
    }
}
