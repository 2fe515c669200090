package io.sourcepostgres.capture;

import io.sourcepostgres.replication.RelationCache;
import io.sourcepostgres.streams.CapturedTable;
import io.sourcepostgres.airbyte.LogSink;
import io.sourcepostgres.airbyte.LogLevel;
import io.sourcepostgres.config.TruncateHandling;
import io.sourcepostgres.airbyte.StreamId;
import io.sourcepostgres.pgoutput.PgOutputMessage;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * TRUNCATE cannot become deletes: the rows it removed are not in the WAL, and emitting a delete for every
 * row the destination holds would need the destination's keys, which the source does not have (nor does
 * the Airbyte protocol let a source tell a destination to drop a stream's rows: generation ids are set by
 * the platform). So a truncate is always reported as a WARN naming the tables, the commit time and the
 * position; with {@code truncate_handling: rebackfill} the truncated streams' backfills also start over
 * ({@link BackfillRestarts}), so that the stream's backfill progress records that it was truncated and a
 * destination that clears a stream when it is refreshed can be brought back exactly.
 */
public final class TruncateHandler {
    private final LogSink out;
    private final TruncateHandling mode;
    private final Consumer<StreamId> restart;
    private final java.util.function.IntPredicate deletedFirst;

    public TruncateHandler(LogSink out) {
        this(out, TruncateHandling.WARN, s -> { }, relid -> false);
    }

    /**
     * @param restart starts a stream's backfill over ({@link BackfillRestarts})
     * @param deletedFirst whether a relation's rows were deleted before its truncate ({@link TruncateTriggers})
     */
    TruncateHandler(LogSink out, TruncateHandling mode, Consumer<StreamId> restart, java.util.function.IntPredicate deletedFirst) {
        this.out = out;
        this.mode = mode;
        this.restart = restart;
        this.deletedFirst = deletedFirst;
    }

    public void onTruncate(PgOutputMessage.Truncate truncate, RelationCache relations, long lsn, String commitTime) {
        List<StreamId> streams = new ArrayList<>();
        List<StreamId> exact = new ArrayList<>();
        for (int relid : truncate.relationIds()) {
            CapturedTable t = relations.get(relid);
            if (t == null) {
                continue;
            }
            if (deletedFirst.test(relid)) {
                if (!exact.contains(t.id())) {
                    exact.add(t.id());
                }
            } else if (!streams.contains(t.id())) {
                streams.add(t.id());
            }
        }
        exact.removeAll(streams); // a partitioned stream is exact only when every truncated partition was
        if (!exact.isEmpty()) {
            out.log(LogLevel.INFO, "TRUNCATE of " + String.join(", ", exact.stream().map(StreamId::toString).toList())
                    + " at LSN " + io.sourcepostgres.pgoutput.Lsn.format(lsn) + ": trigger " + TruncateTriggers.FUNCTION
                    + " deleted the rows first, and those deletes were emitted as delete records");
        }
        if (streams.isEmpty()) {
            return;
        }
        String tables = String.join(", ", streams.stream().map(StreamId::toString).toList());
        String where = "TRUNCATE of " + tables + " committed at " + commitTime + " (LSN "
                + io.sourcepostgres.pgoutput.Lsn.format(lsn) + "): the removed rows are not in the WAL, so no delete "
                + "records are emitted for them and the destination keeps them.";
        if (mode == TruncateHandling.WARN) {
            out.log(LogLevel.WARN, where + " To resynchronise, clear these streams in the destination (Airbyte: refresh "
                    + "them and remove their records), or make truncates deletes (see the README's TRUNCATE section).");
            return;
        }
        out.log(LogLevel.WARN, where + " truncate_handling is rebackfill: their backfills start over now. Rows the "
                + "truncate removed stay in a destination that only upserts and deletes; clear these streams there "
                + "(Airbyte: refresh them and remove their records) to remove them.");
        streams.forEach(restart);
    }
}
