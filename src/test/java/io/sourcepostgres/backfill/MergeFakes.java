package io.sourcepostgres.backfill;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcepostgres.airbyte.AirbyteOutput;
import io.sourcepostgres.airbyte.Json;
import io.sourcepostgres.airbyte.LogLevel;
import io.sourcepostgres.airbyte.Secrets;
import io.sourcepostgres.airbyte.StreamId;
import io.sourcepostgres.discovery.ColumnInfo;
import io.sourcepostgres.discovery.DiscoveredTable;
import io.sourcepostgres.pgoutput.TupleData;
import io.sourcepostgres.state.CaptureState;
import io.sourcepostgres.state.Checkpoints;
import io.sourcepostgres.state.StreamProgress;
import io.sourcepostgres.streams.CapturedColumn;
import io.sourcepostgres.streams.CapturedTable;
import io.sourcepostgres.streams.ChangeRecordWriter;
import io.sourcepostgres.values.PgType;
import io.sourcepostgres.values.ValueEncoders;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.RunnableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The chunk merge wired to fakes, for {@link ChunkMergeTest}: a fake chunk source whose reads the test scripts
 * (rows, snapshot, low fence), fake fences whose positions the test knows (so it decides when replication
 * "delivers" one), a read-ahead executor the test steps, and a fake change source that hands committed
 * transactions to the merge exactly as the capture loop does ({@link ChunkMerge}'s contract). Everything runs on
 * the test's thread; nothing sleeps or races.
 *
 * <p>Two tables: {@code public.items (id int4 primary key, v text)} and {@code public.log (msg text)}, which has no
 * key and is backfilled by physical location.
 */
final class MergeFakes {
    static final StreamId ITEMS = new StreamId("public", "items");
    static final StreamId LOG = new StreamId("public", "log");
    static final String COMMIT_TIME = "2026-12-06T12:00:00Z";
    static final long READ_AT_MILLIS = Instant.parse("2026-12-06T11:00:00Z").toEpochMilli();
    static final String READ_AT = Instant.ofEpochMilli(READ_AT_MILLIS).toString();

    private static final PgType INT4 = PgType.builtin(23, "int4", 'N');
    private static final PgType TEXT = PgType.builtin(25, "text", 'S');
    private static final ColumnInfo ID = new ColumnInfo("id", 1, INT4, -1, 0, true, false);
    private static final ColumnInfo V = new ColumnInfo("v", 2, TEXT, -1, 0, false, false);
    private static final ColumnInfo MSG = new ColumnInfo("msg", 1, TEXT, -1, 0, false, false);
    static final DiscoveredTable ITEMS_TABLE = new DiscoveredTable(ITEMS, 16384, 'r', 'p', 'd', List.of(ID, V),
            List.of("id"), true, true, true, List.of());
    static final DiscoveredTable LOG_TABLE = new DiscoveredTable(LOG, 16390, 'r', 'p', 'f', List.of(MSG),
            List.of(), true, true, true, List.of());
    static final BackfillPlan ITEMS_PLAN = new BackfillPlan(ITEMS_TABLE, List.of(ID, V),
            List.of(new ScanKeyColumn(ID, 0, null, false)), false, "items_pkey", 17);
    static final BackfillPlan LOG_PLAN = CtidChunkReader.plan(LOG_TABLE, true, 17);
    /** The tables as replication describes them (relation id, replica identity, key columns' positions). */
    static final CapturedTable ITEMS_CAPTURED = new CapturedTable(16384, ITEMS, 'd',
            List.of(column(ID, true), column(V, false)), new int[] {0});
    static final CapturedTable LOG_CAPTURED = new CapturedTable(16390, LOG, 'f', List.of(column(MSG, false)), new int[0]);

    final ByteArrayOutputStream stdout = new ByteArrayOutputStream();
    final AirbyteOutput out = new AirbyteOutput(stdout, new Secrets());
    final Checkpoints checkpoints;
    final RecentTransactions recent = new RecentTransactions();
    final SteppedReads executor = new SteppedReads();
    final FakeChunks chunks = new FakeChunks();
    final FakeFences fences = new FakeFences();
    final BackfillCoordinator merge;
    final FakeReplication replication;
    private int linesSeen;

    /**
     * @param chunkRows rows per chunk
     * @param streams the streams to backfill, each with the progress the run starts from
     */
    MergeFakes(int chunkRows, Map<BackfillStream, StreamProgress> streams) {
        this(chunkRows, streams, new KeylessStart(ChunkSnapshot.parse("100:100:"), Set.of()));
    }

    /** As above; a keyless stream without a cut in its progress gets {@code cut}. */
    MergeFakes(int chunkRows, Map<BackfillStream, StreamProgress> streams, KeylessStart cut) {
        fences.cut = cut;
        out.setLogLevel(LogLevel.DEBUG);
        Map<StreamId, StreamProgress> progress = new LinkedHashMap<>();
        Deque<BackfillStream> queue = new ArrayDeque<>();
        streams.forEach((s, p) -> {
            progress.put(s.id, p);
            queue.add(s);
        });
        checkpoints = new Checkpoints(out, new CaptureState(0x100, "7300000000000000001", "slot", progress), true,
                Duration.ZERO);
        merge = new BackfillCoordinator(fences, new ChunkReadAhead(chunks, executor), queue, checkpoints,
                new ChangeRecordWriter(out), recent, out, chunkRows, 1L << 30);
        replication = new FakeReplication(merge, recent, checkpoints, new ChangeRecordWriter(out));
    }

    static BackfillStream items() {
        return new BackfillStream(ITEMS, ITEMS_PLAN, true, 0, 0);
    }

    /**
     * Another table shaped like items, {@code public.<name> (id int4 primary key, v text)}, with relation id {@code oid}:
     * several small ones are read in one snapshot ({@link SharedChunkRead}). {@code estimatedRows} is what the
     * catalog's estimate says it holds.
     */
    static BackfillStream keyed(String name, long oid, long estimatedRows) {
        return new BackfillStream(new StreamId("public", name), keyedPlan(name, oid), true, estimatedRows, 0);
    }

    static BackfillPlan keyedPlan(String name, long oid) {
        DiscoveredTable t = new DiscoveredTable(new StreamId("public", name), oid, 'r', 'p', 'd', List.of(ID, V),
                List.of("id"), true, true, true, List.of());
        return new BackfillPlan(t, List.of(ID, V), List.of(new ScanKeyColumn(ID, 0, null, false)), false, name + "_pkey", 17);
    }

    /** The table {@link #keyed} as replication describes it. */
    static CapturedTable keyedCaptured(String name, long oid) {
        return new CapturedTable((int) oid, new StreamId("public", name), 'd', List.of(column(ID, true), column(V, false)),
                new int[] {0});
    }

    static BackfillStream log() {
        return new BackfillStream(LOG, LOG_PLAN, true, 0, 0);
    }

    private static CapturedColumn column(ColumnInfo c, boolean key) {
        return new CapturedColumn(c.name(), c.type(), c.typmod(), key, ValueEncoders.forType(c.type(), c.typmod()));
    }

    // ---- tuples: the text bytes pgoutput and COPY both send ------------------------------------------------

    /** A row of items; {@code v} null is SQL NULL. */
    static TupleData item(int id, String v) {
        return TupleData.of(new byte[] {TupleData.TEXT, v == null ? TupleData.NULL : TupleData.TEXT},
                new byte[][] {utf8(Integer.toString(id)), v == null ? null : utf8(v)});
    }

    /** An old key of items as pgoutput sends it ('K'): the key column, the others null. */
    static TupleData itemKey(int id) {
        return TupleData.of(new byte[] {TupleData.TEXT, TupleData.NULL}, new byte[][] {utf8(Integer.toString(id)), null});
    }

    static TupleData logRow(String msg) {
        return TupleData.of(new byte[] {TupleData.TEXT}, new byte[][] {utf8(msg)});
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    // ---- what came out ------------------------------------------------------------------------------------

    /**
     * The RECORDs and STATEs written since the last call, in order: {@code RECORD <table> <data>} (the record's
     * {@code data}, CDC fields included; {@code emitted_at} left out, it is the wall clock) and
     * {@code STATE <table>=<phase>[ after <resume_after>]...}.
     */
    List<String> drain() {
        out.flush();
        String[] lines = stdout.toString(StandardCharsets.UTF_8).split("\n");
        List<String> got = new ArrayList<>();
        for (int i = linesSeen; i < lines.length; i++) {
            if (lines[i].isEmpty()) {
                continue;
            }
            JsonNode m = parse(lines[i]);
            switch (m.path("type").asText()) {
                case "RECORD" -> got.add("RECORD " + m.path("record").path("stream").asText() + " "
                        + m.path("record").path("data"));
                case "STATE" -> got.add(state(m.path("state").path("global").path("stream_states")));
                default -> { }
            }
        }
        linesSeen = lines.length;
        return got;
    }

    /** The LOG messages written so far. */
    List<String> logs() {
        out.flush();
        List<String> got = new ArrayList<>();
        for (String line : stdout.toString(StandardCharsets.UTF_8).split("\n")) {
            JsonNode m = line.isEmpty() ? null : parse(line);
            if (m != null && m.path("type").asText().equals("LOG")) {
                got.add(m.path("log").path("level").asText() + " " + m.path("log").path("message").asText());
            }
        }
        return got;
    }

    private static JsonNode parse(String line) {
        try {
            return Json.MAPPER.readTree(line);
        } catch (Exception e) {
            throw new AssertionError("not JSON: " + line, e);
        }
    }

    private static String state(JsonNode streams) {
        StringBuilder sb = new StringBuilder("STATE");
        for (JsonNode s : streams) {
            JsonNode p = s.path("stream_state");
            sb.append(' ').append(s.path("stream_descriptor").path("name").asText()).append('=')
                    .append(p.path("phase").asText());
            if (p.has("resume_after")) {
                sb.append(" after ").append(p.get("resume_after"));
            }
        }
        return sb.toString();
    }

    static String record(StreamId stream, ObjectNode data) {
        return "RECORD " + stream.name() + " " + data;
    }

    /** A row of table {@code name} (shaped like items) as a change of the commit at {@code lsn} wrote it. */
    static String changed(String name, int id, String v, long lsn) {
        return changed(id, v, lsn).replaceFirst("^RECORD items ", "RECORD " + name + " ");
    }

    /** A row of table {@code name} (shaped like items) as a chunk read after {@code lowFence} emitted it. */
    static String backfilled(String name, int id, String v, long lowFence) {
        return backfilled(id, v, lowFence).replaceFirst("^RECORD items ", "RECORD " + name + " ");
    }

    /** An items row as a change of the commit at {@code lsn} wrote it. */
    static String changed(int id, String v, long lsn) {
        ObjectNode d = Json.MAPPER.createObjectNode();
        d.put("id", id).put("v", v).put("_ab_cdc_lsn", lsn).put("_ab_cdc_updated_at", COMMIT_TIME).putNull("_ab_cdc_deleted_at");
        return record(ITEMS, d);
    }

    /** An items row deleted (or moved to another key) by the commit at {@code lsn}: its old key only. */
    static String deleted(int id, long lsn) {
        ObjectNode d = Json.MAPPER.createObjectNode();
        d.put("id", id).put("_ab_cdc_lsn", lsn).put("_ab_cdc_updated_at", COMMIT_TIME).put("_ab_cdc_deleted_at", COMMIT_TIME);
        return record(ITEMS, d);
    }

    /** An items row as a chunk read after {@code lowFence} emitted it. */
    static String backfilled(int id, String v, long lowFence) {
        ObjectNode d = Json.MAPPER.createObjectNode();
        d.put("id", id).put("v", v).put("_ab_cdc_lsn", lowFence).put("_ab_cdc_updated_at", READ_AT).putNull("_ab_cdc_deleted_at");
        return record(ITEMS, d);
    }

    static String logChanged(String msg, long lsn) {
        ObjectNode d = Json.MAPPER.createObjectNode();
        d.put("msg", msg).put("_ab_cdc_lsn", lsn).put("_ab_cdc_updated_at", COMMIT_TIME).putNull("_ab_cdc_deleted_at");
        return record(LOG, d);
    }

    static String logBackfilled(String msg, long lowFence) {
        ObjectNode d = Json.MAPPER.createObjectNode();
        d.put("msg", msg).put("_ab_cdc_lsn", lowFence).put("_ab_cdc_updated_at", READ_AT).putNull("_ab_cdc_deleted_at");
        return record(LOG, d);
    }

    // ---- the fakes ----------------------------------------------------------------------------------------

    /**
     * The read-ahead thread, stepped by the test: a submitted read runs when the test calls {@link #step}, or at
     * once when the capture thread waits for it (what a read with replication paused does), and never otherwise.
     */
    static final class SteppedReads extends AbstractExecutorService {
        private final Deque<Runnable> queued = new ArrayDeque<>();
        /** Reads that ran because the capture thread waited for them rather than by a step. */
        int ranWhileAwaited;

        /** Runs every read submitted so far, as the reader thread would while the capture thread goes on. */
        void step() {
            while (!queued.isEmpty()) {
                queued.removeFirst().run();
            }
        }

        int queued() {
            return queued.size();
        }

        @Override
        protected <T> RunnableFuture<T> newTaskFor(Callable<T> callable) {
            return new Awaited<>(callable);
        }

        @Override
        public void execute(Runnable command) {
            queued.addLast(command);
        }

        private final class Awaited<T> extends FutureTask<T> {
            Awaited(Callable<T> callable) {
                super(callable);
            }

            @Override
            public T get() throws InterruptedException, ExecutionException {
                if (!isDone() && queued.remove(this)) {
                    ranWhileAwaited++;
                    run();
                }
                return super.get();
            }

            @Override
            public T get(long timeout, TimeUnit unit) throws InterruptedException, ExecutionException {
                return get();
            }
        }

        @Override
        public void shutdown() {
            queued.clear();
        }

        @Override
        public List<Runnable> shutdownNow() {
            List<Runnable> left = new ArrayList<>(queued);
            queued.clear();
            return left;
        }

        @Override
        public boolean isShutdown() {
            return false;
        }

        @Override
        public boolean isTerminated() {
            return false;
        }

        @Override
        public boolean awaitTermination(long timeout, TimeUnit unit) {
            return true;
        }
    }

    /**
     * The server's side of a chunk read. Each read sees {@link #items} (or {@link #log}) as they are when it runs,
     * in the snapshot {@link #snapshot} (or the next of {@link #snapshots}), with the low fence {@link #lowFence};
     * it reports the writers in {@link #writers}. {@link #reads} tells what was read, in order.
     */
    static final class FakeChunks implements ChunkReads {
        final TreeMap<Integer, String> items = new TreeMap<>();
        /** The rows of the tables made by {@link #keyed}, by name. */
        final Map<String, TreeMap<Integer, String>> keyed = new LinkedHashMap<>();
        final List<String> log = new ArrayList<>();
        ChunkSnapshot snapshot = ChunkSnapshot.parse("100:100:");
        final Deque<ChunkSnapshot> snapshots = new ArrayDeque<>();
        long lowFence = 0x1000;
        List<Long> writers = List.of();
        /** Each read: the table, where it resumed, and its snapshot. */
        final List<String> reads = new ArrayList<>();

        @Override
        public ChunkSource sourceFor(BackfillStream stream) {
            return new ChunkSource() {
                @Override
                public BackfillPlan plan() {
                    return stream.plan;
                }

                @Override
                public Chunk read(Connection connection, JsonNode resumeAfter, int maxRows, long maxBytes) {
                    ChunkSnapshot s = snapshots.isEmpty() ? snapshot : snapshots.removeFirst();
                    reads.add(stream.id.name() + " after " + resumeAfter + " in " + s.xmin() + ":" + s.xmax() + ":"
                            + s.inProgress());
                    return stream.keyless ? readLog(resumeAfter, s) : readItems(stream, resumeAfter, maxRows, s);
                }
            };
        }

        private Chunk readItems(BackfillStream stream, JsonNode resumeAfter, int maxRows, ChunkSnapshot s) {
            TreeMap<Integer, String> table = stream.id.equals(ITEMS) ? items : keyed.get(stream.id.name());
            Map<Integer, String> after = resumeAfter == null ? table
                    : table.tailMap(Integer.parseInt(resumeAfter.get(0).asText()), false);
            List<TupleData> rows = new ArrayList<>();
            long bytes = 0;
            for (Map.Entry<Integer, String> e : after.entrySet()) {
                if (rows.size() == maxRows) {
                    break;
                }
                rows.add(item(e.getKey(), e.getValue()));
                bytes += e.getKey().toString().length() + (e.getValue() == null ? 2 : e.getValue().length()) + 2;
            }
            return new Chunk(stream.plan, rows, bytes, rows.size() < maxRows, false, s);
        }

        /** The whole of log is one page: its one chunk is the last. */
        private Chunk readLog(JsonNode resumeAfter, ChunkSnapshot s) {
            CtidChunkReader.Position from = CtidChunkReader.Position.of(resumeAfter, LOG_TABLE);
            List<TupleData> rows = log.stream().map(MergeFakes::logRow).toList();
            long bytes = log.stream().mapToLong(m -> m.length() + 1).sum();
            return new Chunk(LOG_PLAN, rows, bytes, true, false, s,
                    new CtidChunkReader.Position(from.page() + 1, 0, 1, from.start()).toJson(), null);
        }

        /**
         * One snapshot for all (the next of {@link #snapshots}, else {@link #snapshot}), each table limited to the rows
         * the ones before it left, stopping after the first it does not finish; recorded in {@link #reads} as
         * {@code shared [a, b]} followed by each table's read.
         */
        @Override
        public List<ChunkReadAhead.Read> readShared(List<BackfillStream> streams, List<ChunkSource> sources,
                List<JsonNode> resumes, int maxRows, long maxBytes) {
            ChunkSnapshot s = snapshots.isEmpty() ? snapshot : snapshots.removeFirst();
            List<String> names = new ArrayList<>();
            int at = reads.size();
            List<ChunkReadAhead.Read> got = new ArrayList<>();
            TableWriters w = new TableWriters(List.copyOf(writers), -1);
            int left = maxRows;
            for (int i = 0; i < streams.size() && left > 0; i++) {
                BackfillStream stream = streams.get(i);
                names.add(stream.id.name());
                reads.add(stream.id.name() + " after " + resumes.get(i) + " in " + s.xmin() + ":" + s.xmax() + ":"
                        + s.inProgress());
                Chunk chunk = readItems(stream, resumes.get(i), left, s);
                got.add(new ChunkReadAhead.Read(chunk, lowFence, READ_AT_MILLIS, w));
                if (!chunk.done()) {
                    break;
                }
                left -= chunk.rowsRead();
            }
            reads.add(at, "shared " + names);
            return got;
        }

        @Override
        public ChunkReadAhead.Read read(BackfillStream stream, ChunkSource source, JsonNode resumeAfter, int maxRows,
                long maxBytes) {
            Chunk chunk = source.read(null, resumeAfter, maxRows, maxBytes);
            TableWriters w = stream.replicated && !stream.keyless ? new TableWriters(List.copyOf(writers), -1) : null;
            return new ChunkReadAhead.Read(chunk, lowFence, READ_AT_MILLIS, w);
        }
    }

    /**
     * The server's side of fences: each fence written lies at the next of 0x2000, 0x3000, ... ({@link #written});
     * the writers end when the test says so; a keyless stream's cut is {@link #cut}.
     */
    static final class FakeFences implements MergeFences {
        final List<Long> written = new ArrayList<>();
        boolean writersEnded = true;
        KeylessStart cut;

        @Override
        public long writeFence() {
            long fence = 0x2000L + 0x1000L * written.size();
            written.add(fence);
            return fence;
        }

        @Override
        public boolean writersEnded(TableWriters writers, StreamId stream) {
            return writersEnded;
        }

        @Override
        public KeylessStart keylessCut(int serverMajorVersion) {
            return cut;
        }
    }

    /** A change of a committed transaction, as replication delivers it. */
    sealed interface Change permits Insert, Update, Delete {}

    record Insert(CapturedTable table, TupleData row) implements Change {}

    /** {@code old} is the old key ('K') when the key changed, the old row under REPLICA IDENTITY FULL, else null. */
    record Update(CapturedTable table, TupleData old, TupleData row) implements Change {}

    record Delete(CapturedTable table, TupleData old) implements Change {}

    /**
     * The change source: delivers committed transactions and keepalive positions to the merge exactly as
     * {@code capture.CaptureLoop} does (each change inside its transaction; after the commit, the position, then
     * the next chunk), writes each change's RECORD, and emits a STATE after every commit and whenever the merge's
     * progress moved: the seed's per-commit cadence, so every state the merge allows shows.
     */
    static final class FakeReplication {
        private final ChunkMerge merge;
        private final RecentTransactions recent;
        private final Checkpoints checkpoints;
        private final ChangeRecordWriter records;
        private long position;

        FakeReplication(ChunkMerge merge, RecentTransactions recent, Checkpoints checkpoints, ChangeRecordWriter records) {
            this.merge = merge;
            this.recent = recent;
            this.checkpoints = checkpoints;
            this.records = records;
            this.position = checkpoints.position();
        }

        /** Transaction {@code xid} committed at {@code lsn} (its changes at {@code lsn} too; it ends at lsn + 1). */
        void commit(int xid, long lsn, Change... changes) {
            for (Change c : changes) {
                apply(c, xid, lsn);
            }
            recent.committed(xid);
            advanceTo(lsn + 1);
            checkpoints.emit();
            merge.readNextChunk();
        }

        /** Replication reports {@code lsn} between transactions (a keepalive, or the commit of a fence message). */
        void keepalive(long lsn) {
            if (advanceTo(lsn)) {
                checkpoints.emit();
            }
            merge.readNextChunk();
        }

        private boolean advanceTo(long lsn) {
            if (lsn <= position) {
                return false;
            }
            position = lsn;
            checkpoints.advance(lsn);
            return merge.reached(lsn);
        }

        private void apply(Change change, int xid, long lsn) {
            if (change instanceof Insert i) {
                if (!merge.suppresses(i.table().id(), xid)) {
                    merge.changed(i.table().id(), i.row(), i.table().keyIndexes(), xid, lsn);
                    emit(i.table(), i.row(), false, lsn, false);
                }
            } else if (change instanceof Update u) {
                if (!merge.suppresses(u.table().id(), xid)) {
                    merge.keylessRowChanged(u.table().id(), xid, lsn);
                    merge.changed(u.table().id(), u.row(), u.table().keyIndexes(), xid, lsn);
                    if (u.table().keyChanged(u.old(), u.row())) {
                        merge.changed(u.table().id(), u.old(), u.table().keyIndexes(), xid, lsn);
                        emit(u.table(), u.old(), true, lsn, true);
                    }
                    emit(u.table(), u.row(), false, lsn, false);
                }
            } else if (change instanceof Delete d) {
                if (!merge.suppresses(d.table().id(), xid)) {
                    merge.keylessRowChanged(d.table().id(), xid, lsn);
                    merge.changed(d.table().id(), d.old(), d.table().keyIndexes(), xid, lsn);
                    emit(d.table(), d.old(), d.table().keyIndexes().length > 0, lsn, true);
                }
            }
        }

        private void emit(CapturedTable table, TupleData tuple, boolean keyOnly, long lsn, boolean delete) {
            records.write(table, tuple, keyOnly, lsn, COMMIT_TIME, delete, 0L);
            checkpoints.countRecord();
        }
    }
}
