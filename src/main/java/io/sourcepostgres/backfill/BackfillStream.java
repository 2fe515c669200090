package io.sourcepostgres.backfill;

import io.sourcepostgres.streams.CapturedColumn;
import io.sourcepostgres.streams.CapturedTable;
import io.sourcepostgres.airbyte.StreamId;
import io.sourcepostgres.discovery.ColumnInfo;
import io.sourcepostgres.values.ValueEncoders;
import java.util.ArrayList;
import java.util.List;

/** A stream being backfilled: its plan, and the table shape its chunk rows are written with. */
public final class BackfillStream {
    final StreamId id;
    /** The plan of the run's start; a chunk read after the table's columns changed carries a newer one. */
    final BackfillPlan plan;
    /** Plans the stream anew when its table's columns change during the backfill (on the reader's thread). */
    final ChunkReader.Replanner replanner;
    private BackfillPlan shapePlan;
    private CapturedTable shape;
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

    public BackfillStream(StreamId id, BackfillPlan plan, boolean replicated, long estimatedRows, long rowsDone) {
        this(id, plan, null, replicated, estimatedRows, rowsDone);
    }

    public BackfillStream(StreamId id, BackfillPlan plan, ChunkReader.Replanner replanner, boolean replicated,
            long estimatedRows, long rowsDone) {
        this.id = id;
        this.plan = plan;
        this.replanner = replanner;
        this.replicated = replicated;
        this.keyless = plan.key().isEmpty();
        this.estimatedRows = estimatedRows;
        this.rowsDone = rowsDone;
        this.rowsAtStart = rowsDone;
        this.scanKey = ScanKeyRecord.of(plan);
        shapeOf(plan);
    }

    /** Whether {@code chunkPlan} differs from the plan of the chunks written before (the table changed). */
    boolean replanned(BackfillPlan chunkPlan) {
        return chunkPlan != shapePlan;
    }

    /** The shape (columns and their encoders) that rows read with {@code chunkPlan} are written with. */
    CapturedTable shapeOf(BackfillPlan chunkPlan) {
        if (chunkPlan != shapePlan) {
            List<CapturedColumn> columns = new ArrayList<>();
            for (ColumnInfo c : chunkPlan.columns()) {
                columns.add(new CapturedColumn(c.name(), c.type(), c.typmod(), false,
                        ValueEncoders.forType(c.type(), c.typmod())));
            }
            shape = new CapturedTable(0, id, 'd', List.copyOf(columns), chunkPlan.keyPositions());
            shapePlan = chunkPlan;
        }
        return shape;
    }

    long rowsDoneThisRun() {
        return rowsDone - rowsAtStart;
    }
}
