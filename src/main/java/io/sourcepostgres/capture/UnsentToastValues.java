package io.sourcepostgres.capture;

import io.sourcepostgres.streams.CapturedColumn;
import io.sourcepostgres.streams.CapturedTable;
import io.sourcepostgres.airbyte.StreamId;
import io.sourcepostgres.pgoutput.Lsn;
import io.sourcepostgres.pgoutput.TupleData;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Exact row images for updates whose unchanged TOASTed values PostgreSQL did not send ('u': under the
 * default replica identity an UPDATE that leaves an out-of-line value alone does not log it).
 *
 * <p>The value can only be read from the table, and the table may already hold a later transaction's
 * version of the row. Reading it blindly would emit images the row never had (one transaction's columns
 * with another's large value) and, per key, an older image after a newer one. So the row's version is read
 * first: its {@code xmin} and the server's WAL insert position P, in one statement, and judged:
 *
 * <ul>
 *   <li><b>{@code xmin} is the update's transaction</b> (or, for a streamed transaction, one of its
 *       subtransactions): the version read is the one that transaction left, so its value — read in the same
 *       statement — is exact. Only the transaction's last change of a key can be judged so, which is why updates
 *       are held to their commit and an earlier one is dropped when the same transaction changes the key again.
 *   <li><b>The row is gone</b>: whatever removed it (a delete or key change) committed before the read, so
 *       it is in the stream before P. The update is not emitted (dropping an image keeps the emitted ones a
 *       subsequence of the row's history); that later change follows in the stream.
 *   <li><b>Another {@code xmin}</b>: either a later transaction changed the row (its change is in the stream
 *       before P) or the update ran in a subtransaction (a SAVEPOINT), whose xid a non-streamed transaction
 *       does not reveal. The image is set aside with that {@code xmin}, and its value is not read: dropped if a
 *       later change to the key arrives before the stream passes P — the usual fate of a row updated again and
 *       again, whose superseded values are then never fetched — and when the stream passes P without one,
 *       nothing changed the row between the update and the read, so that version is the update's: its value is
 *       read then, from the row only if its {@code xmin} is still the one found (else a change after P replaced
 *       it, which follows in the stream, and the image is dropped).
 * </ul>
 *
 * <p>Nothing else waits for these: STATEs and backfill chunks go on. A state carries the images still set
 * aside ({@link #pending}: stream, key, position and time of each), and a run resuming from it reads those
 * rows again before it streams ({@link #restore}) and judges them the same way: every change after the
 * state's position is still to come, so a row no later change reaches is exactly as the update left it.
 * A backfill chunk that holds a key whose image is set aside read that row after the update committed, so
 * the chunk's row supersedes the image ({@link #beforeChunkRows}).
 *
 * <p>One query per table resolves a whole transaction's held updates (in batches of up to 1,000 keys).
 * Held rows carry no out-of-line values, only the columns that were sent. A non-streamed transaction is
 * bounded by the server's {@code logical_decoding_work_mem}; a streamed one may hold one such row per
 * updated key until its commit.
 */
public final class UnsentToastValues {
    /** Receives the images found exact. */
    public interface Sink {
        void emit(CapturedTable table, TupleData row, long lsn, String commitTime);
    }

    /**
     * Starts a stream's backfill over, saying why: its images cannot be read because the table no longer has the
     * columns (or the name) the updates were described with.
     */
    public interface Rebackfill {
        void restart(StreamId stream, String why);
    }

    /**
     * An update whose unsent values are still to be read. {@code xmin} is the row version found by the first read
     * when that version was not the update's own ({@link #UNKNOWN_XMIN} before any read): the values are read only
     * once the stream passes that read, and only from that same version.
     */
    private record Held(CapturedTable table, String key, TupleData row, long lsn, String commitTime, long xmin) {
        Held(CapturedTable table, String key, TupleData row, long lsn, String commitTime) {
            this(table, key, row, lsn, commitTime, UNKNOWN_XMIN);
        }
    }

    private static final long UNKNOWN_XMIN = RowVersionReads.ANY;

    /**
     * An image set aside (or, with {@code held} null, a row found gone) until {@code passAt}. With {@code unreadBy}
     * set, the image was not read at all yet: its transaction (those xids) committed while the stream replayed a
     * backlog, and its first read waits for the stream to reach the end of that backlog.
     */
    private record Waiting(Held held, long passAt, Set<Long> unreadBy) {
        Waiting(Held held, long passAt) {
            this(held, passAt, null);
        }
    }

    private static final int MAX_BATCH = 1_000;
    /** Images deferred or set aside beyond this many are read at their commit again: a bound on what is held. */
    private static final int MAX_WAITING = 100_000;

    private final RowVersionReads reads;
    /** The current transaction's held updates, per relation, by key, in arrival order. */
    private final Map<Integer, LinkedHashMap<String, Held>> transaction = new HashMap<>();
    /** Earlier transactions' images set aside and rows found gone, per relation, by key. */
    private final Map<Integer, Map<String, Waiting>> waiting = new HashMap<>();
    private int waitingCount;
    /** No waiting entry is due before this position (a lower bound: most stream positions need no look at all). */
    private long nextDue = NEVER;
    private static final long NEVER = -1L; // the largest position, unsigned
    /** The xids a streamed transaction's changes carried: its own and its subtransactions'. */
    private final Set<Long> streamedXids = new HashSet<>();
    private final Rebackfill rebackfill;
    /** Shapes (stream and columns) whose values could not be read any more: their stream's backfill started over. */
    private final Set<String> unreadableShapes = new HashSet<>();
    /**
     * The server's WAL insert position at the last read: a transaction committed before it was already in the WAL
     * then, so while the stream replays up to it the stream replays a backlog. The first read of such a
     * transaction's images waits for the stream to reach this position — by then a later update of the same row
     * (rows updated again and again) has dropped most of them unread — and is done once for all of them.
     */
    private long backlogEnd;
    private long resolved;
    private long setAside;
    private long deferred;
    private long dropped;

    /**
     * The images set aside, for the state: a JSON array of {@code {"namespace", "stream", "key": [text, ...],
     * "lsn", "time"}}, or null when there are none.
     */
    public com.fasterxml.jackson.databind.JsonNode pending() {
        if (waitingCount == 0) {
            return null;
        }
        com.fasterxml.jackson.databind.node.ArrayNode list = io.sourcepostgres.airbyte.Json.MAPPER.createArrayNode();
        for (Map<String, Waiting> aside : waiting.values()) {
            for (Waiting w : aside.values()) {
                Held h = w.held();
                if (h == null) {
                    continue; // a row found gone: the change that removed it is still to come after any state now
                }
                com.fasterxml.jackson.databind.node.ObjectNode item = list.addObject();
                item.put("namespace", h.table().id().namespace());
                item.put("stream", h.table().id().name());
                com.fasterxml.jackson.databind.node.ArrayNode key = item.putArray("key");
                for (int k : h.table().keyIndexes()) {
                    key.add(h.row().text(k));
                }
                item.put("lsn", h.lsn());
                item.put("time", h.commitTime());
            }
        }
        return list.isEmpty() ? null : list;
    }

    /**
     * Takes back the images a state carried ({@link #pending}), before streaming starts: each row's version is
     * read again and set aside as at its update's commit (its values are read once the stream passes that read). {@code describe} gives a stream's table as the catalog
     * describes it now, or null when the stream is no longer captured (its images are then dropped).
     */
    public void restore(com.fasterxml.jackson.databind.JsonNode images,
            java.util.function.Function<StreamId, CapturedTable> describe, Sink sink) {
        if (images == null) {
            return;
        }
        Map<StreamId, List<Held>> byStream = new LinkedHashMap<>();
        Map<StreamId, CapturedTable> tables = new HashMap<>();
        for (com.fasterxml.jackson.databind.JsonNode item : images) {
            StreamId id = new StreamId(item.path("namespace").isTextual() ? item.get("namespace").asText() : null,
                    item.get("stream").asText());
            CapturedTable table = tables.computeIfAbsent(id, describe);
            if (table == null || table.keyIndexes().length != item.get("key").size()) {
                continue;
            }
            // Every column but the key is to be read from the table: the row as the update left it.
            int n = table.columns().size();
            byte[] kinds = new byte[n];
            byte[][] values = new byte[n][];
            for (int i = 0; i < n; i++) {
                // Columns the stream does not emit are not read (the user may not be allowed to).
                kinds[i] = table.columns().get(i).emitted() ? TupleData.UNCHANGED_TOAST : TupleData.NULL;
            }
            for (int k = 0; k < table.keyIndexes().length; k++) {
                com.fasterxml.jackson.databind.JsonNode part = item.get("key").get(k);
                int i = table.keyIndexes()[k];
                kinds[i] = part.isNull() ? TupleData.NULL : TupleData.TEXT;
                values[i] = part.isNull() ? null : part.asText().getBytes(java.nio.charset.StandardCharsets.UTF_8);
            }
            TupleData row = TupleData.of(kinds, values);
            byStream.computeIfAbsent(id, s -> new ArrayList<>())
                    .add(new Held(table, RowVersionReads.key(table, row), row, item.get("lsn").asLong(), item.get("time").asText()));
        }
        for (Map.Entry<StreamId, List<Held>> e : byStream.entrySet()) {
            resolveAll(tables.get(e.getKey()), e.getValue(), Set.of(), false, sink);
        }
    }

    /**
     * A backfill chunk of {@code stream} is about to be emitted: an image set aside for a key the chunk holds is
     * dropped, the chunk's row (read after that update committed) being at least as new.
     */
    public void beforeChunkRows(StreamId stream, io.sourcepostgres.backfill.Chunk chunk) {
        dropWaiting(h -> h.table().id().equals(stream)
                && chunk.row(io.sourcepostgres.backfill.RowKey.of(h.row(), h.table().keyIndexes())).isPresent());
    }

    /** Drops the images waiting (set aside or deferred) that {@code superseded} says something newer replaces. */
    private void dropWaiting(java.util.function.Predicate<Held> superseded) {
        if (waitingCount == 0) {
            return;
        }
        for (Iterator<Map<String, Waiting>> rels = waiting.values().iterator(); rels.hasNext(); ) {
            Map<String, Waiting> aside = rels.next();
            for (Iterator<Waiting> it = aside.values().iterator(); it.hasNext(); ) {
                Held h = it.next().held();
                if (h != null && superseded.test(h)) {
                    it.remove();
                    waitingCount--;
                    dropped++;
                }
            }
            if (aside.isEmpty()) {
                rels.remove();
            }
        }
    }

    public UnsentToastValues(Connection query, Rebackfill rebackfill) {
        this.reads = new RowVersionReads(query);
        this.rebackfill = rebackfill;
    }

    /** Whether the tuple has values that were not sent. */
    public static boolean hasUnsent(TupleData tuple) {
        for (int i = 0; i < tuple.size(); i++) {
            if (tuple.isUnchangedToast(i)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The new tuple with each unsent value taken from the old tuple where that one carries it (REPLICA
     * IDENTITY FULL sends the whole old row with its out-of-line values inlined; an old key carries the key
     * columns, which PostgreSQL logs when they are stored out of line). Returns {@code newTuple} itself when
     * nothing is unsent.
     */
    public static TupleData completeFromOld(TupleData oldTuple, TupleData newTuple) {
        if (!hasUnsent(newTuple)) {
            return newTuple;
        }
        int n = newTuple.size();
        byte[][] values = new byte[n][];
        byte[] kinds = new byte[n];
        for (int i = 0; i < n; i++) {
            TupleData from = newTuple;
            if (newTuple.isUnchangedToast(i) && oldTuple != null && i < oldTuple.size()
                    && (oldTuple.kind(i) == TupleData.TEXT || oldTuple.kind(i) == TupleData.BINARY)) {
                from = oldTuple;
            }
            kinds[i] = from.kind(i);
            if (kinds[i] == TupleData.TEXT || kinds[i] == TupleData.BINARY) {
                values[i] = from.bytes(i);
            }
        }
        return TupleData.of(kinds, values);
    }

    /**
     * The row with the unsent values of unselected columns (Airbyte's column selection) marked null: they are
     * never emitted, so they are never read either. Returns {@code row} itself when there are none.
     */
    public static TupleData withoutUnselected(CapturedTable table, TupleData row) {
        List<CapturedColumn> columns = table.columns();
        boolean any = false;
        for (int i = 0; i < row.size() && i < columns.size(); i++) {
            any |= row.isUnchangedToast(i) && !columns.get(i).emitted();
        }
        if (!any) {
            return row;
        }
        int n = row.size();
        byte[][] values = new byte[n][];
        byte[] kinds = new byte[n];
        for (int i = 0; i < n; i++) {
            kinds[i] = row.kind(i);
            if (kinds[i] == TupleData.UNCHANGED_TOAST && i < columns.size() && !columns.get(i).emitted()) {
                kinds[i] = TupleData.NULL;
            } else if (kinds[i] == TupleData.TEXT || kinds[i] == TupleData.BINARY) {
                values[i] = row.bytes(i);
            }
        }
        return TupleData.of(kinds, values);
    }

    /** Holds an update with unsent values (the row, completed from its old tuple) to its transaction's commit. */
    public void hold(CapturedTable table, TupleData row, long lsn, String commitTime) {
        if (!unreadableShapes.isEmpty() && unreadableShapes.contains(shapeKey(table))) {
            dropped++; // its stream's backfill started over after this update: the chunks read the row anew
            return;
        }
        String key = RowVersionReads.key(table, row);
        transaction.computeIfAbsent(table.relationId(), r -> new LinkedHashMap<>())
                .put(key, new Held(table, key, row.copy(), lsn, commitTime));
    }

    /** A change to the key {@code tuple} carries: it supersedes what is held or waiting for that key. */
    public void changed(CapturedTable table, TupleData tuple) {
        if (tuple == null || table.keyIndexes().length == 0 || (transaction.isEmpty() && waiting.isEmpty())) {
            return;
        }
        int rel = table.relationId();
        LinkedHashMap<String, Held> held = transaction.get(rel);
        Map<String, Waiting> aside = waiting.get(rel);
        if (held == null && aside == null) {
            return;
        }
        String key = RowVersionReads.key(table, tuple);
        if (held != null && held.remove(key) != null) {
            dropped++;
        }
        if (aside != null && aside.remove(key) != null) {
            waitingCount--;
            dropped++;
            if (aside.isEmpty()) {
                waiting.remove(rel);
            }
        }
    }

    /** A change of a streamed transaction carried this (sub)transaction id. */
    public void streamedXid(int xid) {
        if (xid != 0) {
            streamedXids.add(Integer.toUnsignedLong(xid));
        }
    }

    /**
     * The transaction {@code xid} committed at {@code commitEnd}: reads its held updates' rows, emitting the images
     * found exact — or, when it committed within the backlog the last read saw, defers that read to the backlog's
     * end ({@link #backlogEnd}).
     */
    public void committed(int xid, long commitEnd, Sink sink) {
        if (transaction.isEmpty()) {
            streamedXids.clear();
            return;
        }
        streamedXids.add(Integer.toUnsignedLong(xid));
        Set<Long> own = Set.copyOf(streamedXids);
        boolean inBacklog = Lsn.compare(commitEnd, backlogEnd) < 0 && waitingCount < MAX_WAITING;
        // A relation's held updates are grouped by the table as it was described when each arrived.
        for (LinkedHashMap<String, Held> heldOfRelation : transaction.values()) {
            Map<CapturedTable, List<Held>> byShape = new IdentityHashMap<>();
            for (Held h : heldOfRelation.values()) {
                if (inBacklog) {
                    deferred++;
                    waitFor(h.table(), h.key(), new Waiting(h, backlogEnd, own));
                } else {
                    byShape.computeIfAbsent(h.table(), t -> new ArrayList<>()).add(h);
                }
            }
            for (Map.Entry<CapturedTable, List<Held>> e : byShape.entrySet()) {
                resolveAll(e.getKey(), e.getValue(), own, false, sink);
            }
        }
        transaction.clear();
        streamedXids.clear();
    }

    /**
     * The stream passed {@code position} (between transactions): reads what waited for it. An image deferred
     * unread gets its first read now (as at its commit). For an image set aside, no change to its row came between
     * its update and its first read, so the version that read found is the update's own: its values are read now,
     * from that version alone ({@code xmin} unchanged); a row changed or removed since is dropped, that change
     * being after the first read, so still to come in the stream.
     */
    public void passed(long position, Sink sink) {
        readDue(position, false, sink);
        // A first read just done may set aside at {@code position} itself (a caught-up stream, no WAL since): due now.
        readDue(position, false, sink);
    }

    /**
     * The run drains what waits before it ends ({@code position}: the stream's): the images deferred to the end of a
     * backlog get their first read now, so that those it sets aside are among what the drain waits for
     * ({@link #lastPositionWaitedFor}) or, set aside at a position already passed, are read again at once.
     */
    public void readDeferred(long position, Sink sink) {
        readDue(position, true, sink);
        readDue(position, false, sink);
    }

    private void readDue(long position, boolean allDeferred, Sink sink) {
        if (waitingCount == 0 || (!allDeferred && Lsn.compare(position, nextDue) < 0)) {
            return;
        }
        long stillDue = NEVER;
        List<Waiting> due = new ArrayList<>();
        for (Iterator<Map<String, Waiting>> rels = waiting.values().iterator(); rels.hasNext(); ) {
            Map<String, Waiting> aside = rels.next();
            for (Iterator<Waiting> it = aside.values().iterator(); it.hasNext(); ) {
                Waiting w = it.next();
                if (Lsn.compare(position, w.passAt()) >= 0 || (allDeferred && w.unreadBy() != null)) {
                    it.remove();
                    waitingCount--;
                    if (w.held() != null) {
                        due.add(w);
                    }
                } else if (Lsn.compare(w.passAt(), stillDue) < 0) {
                    stillDue = w.passAt();
                }
            }
            if (aside.isEmpty()) {
                rels.remove();
            }
        }
        nextDue = stillDue; // the reads below lower it again for what they set aside
        // In the order of their updates, as they would have come one by one: consecutive images of one table shape
        // and one kind of read (the first, for one transaction, or a recheck) go in one statement, which emits them
        // in that order before the next is read — memory holds one batch, not a backlog.
        due.sort((x, y) -> Lsn.compare(x.held().lsn(), y.held().lsn()));
        for (int from = 0; from < due.size(); ) {
            Waiting first = due.get(from);
            int to = from + 1;
            while (to < due.size() && to - from < MAX_BATCH && due.get(to).held().table() == first.held().table()
                    && due.get(to).unreadBy() == first.unreadBy()) {
                to++;
            }
            List<Held> batch = new ArrayList<>(to - from);
            for (int i = from; i < to; i++) {
                batch.add(due.get(i).held());
            }
            boolean recheck = first.unreadBy() == null;
            resolveAll(first.held().table(), batch, recheck ? Set.of() : first.unreadBy(), recheck, sink);
            from = to;
        }
    }

    /** The relations were truncated: nothing waiting for their rows can be emitted any more. */
    public void truncated(Iterable<Integer> relationIds) {
        for (int rel : relationIds) {
            Map<String, Waiting> aside = waiting.remove(rel);
            if (aside != null) {
                waitingCount -= aside.size();
            }
            transaction.remove(rel);
        }
    }

    /** The furthest position an image now waits for the stream to pass; 0 when none waits. */
    public long lastPositionWaitedFor() {
        long last = 0;
        for (Map<String, Waiting> aside : waiting.values()) {
            for (Waiting w : aside.values()) {
                if (Lsn.compare(w.passAt(), last) > 0) {
                    last = w.passAt();
                }
            }
        }
        return last;
    }

    /** Whether an image waits for the stream to pass a position (the capture then asks for keepalives). */
    public boolean waitsForPosition() {
        return waitingCount > 0;
    }

    /** What this run did with updates whose TOASTed values were not sent, for its log; null when there were none. */
    public String summary() {
        if (reads.statements() == 0 && deferred == 0 && dropped == 0) {
            return null;
        }
        return "Updates whose unchanged TOASTed values were not sent: " + resolved + " row images emitted exact, "
                + dropped + " superseded or gone, " + deferred + " deferred to the end of a backlog, " + setAside
                + " set aside after a read; " + reads.statements() + " reads of " + reads.rows() + " rows, of which "
                + reads.rowsWithValues() + " read with their values";
    }

    /** {@link #resolve} in batches of up to {@link #MAX_BATCH} keys, unless the shape's values became unreadable. */
    private void resolveAll(CapturedTable table, List<Held> all, Set<Long> own, boolean recheck, Sink sink) {
        for (int from = 0; from < all.size(); from += MAX_BATCH) {
            if (unreadableShapes.contains(shapeKey(table))) {
                dropped += all.size() - from;
                return;
            }
            resolve(table, all.subList(from, Math.min(all.size(), from + MAX_BATCH)), own, recheck, sink);
        }
    }

    /**
     * The table no longer has a column (or the name) these updates were described with: a column was renamed or
     * dropped, or the table renamed, after them. Their values cannot be read by name any more, and failing would
     * fail every run (the backlog replays the same updates). The stream's backfill starts over instead: its chunks,
     * read after that change, carry every row as it is now, so the images of the stream's updates of that shape
     * are not needed — nor read — any more.
     */
    private void unreadable(CapturedTable table, int count, SQLException e) {
        unreadableShapes.add(shapeKey(table));
        dropped += count;
        dropWaiting(h -> h.table().id().equals(table.id())); // the restarted backfill reads those rows anew
        rebackfill.restart(table.id(), "The unchanged TOASTed values of " + count + " updated rows of " + table.id()
                + " cannot be read any more: " + e.getMessage() + " — the table was altered (a column renamed or dropped,"
                + " or the table renamed) after those updates. The stream's backfill starts over, so that the destination"
                + " gets every row as it is now; the row images of those updates are not emitted.");
    }

    private static String shapeKey(CapturedTable table) {
        return table.id() + "|" + table.shape();
    }

    /**
     * Reads the rows of {@code batch} (one table, one shape): each one's {@code xmin}, and its unsent values only
     * where the version found is the one wanted — the committing transaction's own (one of {@code own})
     * or, on a {@code recheck}, the version the first read found. Reading the values of versions a later change
     * supersedes would be most of the work when rows are updated again and again.
     *
     * <p>First read (at commit, or of a resumed state's images): the update's own version is emitted; another
     * version is set aside by its {@code xmin} until the stream passes this read's position; a row not found is
     * noted as gone until then. Recheck (the stream passed the first read): the same version is emitted, anything
     * else dropped.
     */
    private void resolve(CapturedTable table, List<Held> batch, Set<Long> own, boolean recheck, Sink sink) {
        TreeSet<Integer> unsentColumns = new TreeSet<>();
        for (Held h : batch) {
            for (int i = 0; i < h.row().size(); i++) {
                if (h.row().isUnchangedToast(i)) {
                    unsentColumns.add(i);
                }
            }
        }
        List<Integer> columns = List.copyOf(unsentColumns);
        List<TupleData> rows = new ArrayList<>(batch.size());
        long[] wanted = new long[batch.size()];
        for (int r = 0; r < wanted.length; r++) {
            rows.add(batch.get(r).row());
            wanted[r] = recheck ? batch.get(r).xmin() : RowVersionReads.ANY;
        }
        RowVersionReads.Found read;
        try {
            read = reads.read(table, columns, rows, wanted, own);
        } catch (SQLException e) {
            if (io.sourcepostgres.postgres.SqlFailures.causeOf(e) == io.sourcepostgres.postgres.SqlFailures.Cause.OBJECT_CHANGED) {
                unreadable(table, batch.size(), e);
                return;
            }
            throw io.sourcepostgres.postgres.SqlFailures.failure("Reading the unchanged TOASTed values of " + batch.size()
                    + " updated rows of " + table.id(), e);
        }
        long passAt = read.position();
        if (Lsn.compare(passAt, backlogEnd) > 0) {
            backlogEnd = passAt;
        }
        Map<String, byte[][]> found = read.values();
        Map<String, Long> xmins = read.xmins();
        for (Held h : batch) {
            byte[][] values = found.get(h.key());
            if (values != null) {
                resolved++;
                sink.emit(h.table(), fill(h.row(), columns, values), h.lsn(), h.commitTime());
            } else if (recheck) {
                dropped++; // changed or removed after its first read: that change follows in the stream
            } else {
                Long xmin = xmins.get(h.key());
                setAside++;
                waitFor(h.table(), h.key(), new Waiting(xmin == null ? null
                        : new Held(h.table(), h.key(), h.row(), h.lsn(), h.commitTime(), xmin), passAt));
            }
        }
    }

    private void waitFor(CapturedTable table, String key, Waiting w) {
        if (Lsn.compare(w.passAt(), nextDue) < 0) {
            nextDue = w.passAt();
        }
        Waiting before = waiting.computeIfAbsent(table.relationId(), r -> new HashMap<>()).put(key, w);
        if (before == null) {
            waitingCount++;
        }
    }

    private static TupleData fill(TupleData row, List<Integer> columns, byte[][] values) {
        int n = row.size();
        byte[][] bytes = new byte[n][];
        byte[] kinds = new byte[n];
        for (int i = 0; i < n; i++) {
            kinds[i] = row.kind(i);
            if (kinds[i] == TupleData.TEXT || kinds[i] == TupleData.BINARY) {
                bytes[i] = row.bytes(i);
            }
        }
        for (int m = 0; m < columns.size(); m++) {
            int i = columns.get(m);
            if (i < n && kinds[i] == TupleData.UNCHANGED_TOAST) {
                if (values[m] == null) {
                    kinds[i] = TupleData.NULL;
                } else {
                    kinds[i] = TupleData.TEXT;
                    bytes[i] = values[m];
                }
            }
        }
        return TupleData.of(kinds, bytes);
    }
}
