package io.sourcepostgres.backfill;

import com.fasterxml.jackson.databind.node.ArrayNode;
import io.sourcepostgres.airbyte.Json;
import io.sourcepostgres.pgoutput.TupleData;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The rows of one chunk, in scan-key order, read in one snapshot, with what the capture needs to merge
 * them with the changes that raced the read: a lookup by key to drop rows a change event supersedes, the
 * key to resume after, and whether the table is exhausted.
 *
 * <p>Rows are {@link TupleData} over the plan's {@link BackfillPlan#columns()}: kind {@code 't'} with the
 * column's text output (the same bytes pgoutput sends) or {@code 'n'} for NULL. Not thread-safe.
 */
public final class Chunk {
    private final BackfillPlan plan;
    private final TupleData[] rows;
    /** Built on the first lookup: most chunks race no change, and then need no index. */
    private Map<RowKey, Integer> byKey;
    private final RowKey lastKey;
    private final long bytes;
    private final boolean done;
    private final boolean cutByBytes;
    private final ChunkSnapshot snapshot;
    private int remaining;
    /** For a chunk read by physical location: where the next one starts (the key-based form otherwise). */
    private final ArrayNode resumeOverride;
    private final String warning;

    Chunk(BackfillPlan plan, List<TupleData> rows, long bytes, boolean done, boolean cutByBytes,
            ChunkSnapshot snapshot) {
        this(plan, rows, bytes, done, cutByBytes, snapshot, null, null);
    }

    Chunk(BackfillPlan plan, List<TupleData> rows, long bytes, boolean done, boolean cutByBytes,
            ChunkSnapshot snapshot, ArrayNode resumeOverride, String warning) {
        this.resumeOverride = resumeOverride;
        this.warning = warning;
        this.plan = plan;
        this.rows = rows.toArray(TupleData[]::new);
        int[] keyPositions = plan.keyPositions();
        this.lastKey = this.rows.length == 0 ? null : RowKey.of(this.rows[this.rows.length - 1], keyPositions);
        this.bytes = bytes;
        this.done = done;
        this.cutByBytes = cutByBytes;
        this.snapshot = snapshot;
        this.remaining = this.rows.length;
    }

    public BackfillPlan plan() {
        return plan;
    }

    /** The rows still in the chunk (not {@linkplain #remove removed}), in scan-key order. */
    public List<TupleData> rows() {
        List<TupleData> list = new ArrayList<>(remaining);
        for (TupleData row : rows) {
            if (row != null) {
                list.add(row);
            }
        }
        return Collections.unmodifiableList(list);
    }

    /** How many rows are still in the chunk. */
    public int size() {
        return remaining;
    }

    /** How many rows the chunk read, removed ones included. */
    public int rowsRead() {
        return rows.length;
    }

    /** The text bytes of the rows read (COPY's bytes, escapes included): what maxBytes bounded. */
    public long bytes() {
        return bytes;
    }

    /**
     * Whether the table has no rows after this chunk in its snapshot: fewer rows came than the chunk asked for,
     * and it was not cut short by its byte bound. A chunk that is not done may still be followed by an empty one.
     */
    public boolean done() {
        return done;
    }

    /** Whether the chunk stopped at its byte bound rather than its row bound or the end of the table. */
    public boolean cutByBytes() {
        return cutByBytes;
    }

    /** The snapshot the rows were read in. */
    public ChunkSnapshot snapshot() {
        return snapshot;
    }

    /**
     * The scan key of the last row read, or null when the chunk read no rows (resume where this chunk
     * started). Removing rows never changes it: the scan has passed them.
     */
    public RowKey lastKey() {
        return lastKey;
    }

    /**
     * {@link #lastKey()} as the JSON array the state keeps as {@code resume_after}: the key columns' text
     * values in key order, {@code null} for NULL. Null when the chunk read no rows. Given back to
     * {@link ChunkReader#read}, it continues exactly after this chunk's last row.
     */
    public ArrayNode resumeAfter() {
        if (resumeOverride != null) {
            return resumeOverride;
        }
        if (lastKey == null) {
            return null;
        }
        ArrayNode array = Json.MAPPER.createArrayNode();
        lastKey.values().forEach(array::add);
        return array;
    }

    /**
     * Something the user must hear about this chunk (a {@code WARN}), e.g. that the table's file was rewritten
     * and its backfill starts over; null when there is nothing to say.
     */
    public String warning() {
        return warning;
    }

    /** The row with this key, if the chunk read it and it was not removed. */
    public Optional<TupleData> row(RowKey key) {
        Integer i = byKey().get(key);
        return i == null ? Optional.empty() : Optional.ofNullable(rows[i]);
    }

    /** Drops the row with this key (superseded by a change event); returns whether there was one. */
    public boolean remove(RowKey key) {
        Integer i = byKey().remove(key);
        if (i == null || rows[i] == null) {
            return false;
        }
        rows[i] = null;
        remaining--;
        return true;
    }

    private Map<RowKey, Integer> byKey() {
        if (byKey == null) {
            byKey = new HashMap<>(Math.max(16, rows.length * 4 / 3 + 1));
            int[] keyPositions = plan.keyPositions();
            for (int i = 0; i < rows.length; i++) {
                byKey.put(RowKey.of(rows[i], keyPositions), i);
            }
        }
        return byKey;
    }
}
