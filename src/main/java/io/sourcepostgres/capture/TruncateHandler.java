package io.sourcepostgres.capture;

import io.sourcepostgres.airbyte.LogSink;
import io.sourcepostgres.airbyte.LogLevel;
import io.sourcepostgres.pgoutput.PgOutputMessage;

/**
 * TRUNCATE cannot become deletes: the rows it removed are not in the WAL, and emitting a delete for
 * every row ever emitted is impossible. It is reported as a WARN log naming the tables and the position,
 * so the user knows to resynchronise them (e.g. reset those streams).
 */
public final class TruncateHandler {
    private final LogSink out;

    public TruncateHandler(LogSink out) {
        this.out = out;
    }

    public void onTruncate(PgOutputMessage.Truncate truncate, RelationCache relations, long lsn, String commitTime) {
        StringBuilder tables = new StringBuilder();
        for (int relid : truncate.relationIds()) {
            CapturedTable t = relations.get(relid);
            if (t != null) {
                if (tables.length() > 0) {
                    tables.append(", ");
                }
                tables.append(t.id());
            }
        }
        if (tables.length() > 0) {
            out.log(LogLevel.WARN, "TRUNCATE of " + tables + " committed at " + commitTime + " (LSN "
                    + io.sourcepostgres.pgoutput.Lsn.format(lsn) + "): the removed rows are not in the WAL, so no "
                    + "delete records are emitted for them. Reset these streams to resynchronise the destination.");
        }
    }
}
