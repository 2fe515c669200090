package io.sourcepostgres.capture;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.sourcepostgres.pgoutput.Lsn;
import io.sourcepostgres.testing.PostgresCluster;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Checks what the torture test's orchestrator kept (every run's messages up to its last STATE) against the
 * tables and their audited history:
 *
 * <ul>
 *   <li>applying the records in order (upsert by key, delete on {@code _ab_cdc_deleted_at}) gives the tables
 *       exactly, compared as {@code to_jsonb} row images;
 *   <li>for each key, the emitted images are a subsequence of the key's audited history (deletes as
 *       tombstones); a chunk row may repeat the image emitted before it (a change its snapshot included),
 *       a change event may not (its effect was emitted already), and nothing goes back;
 *   <li>{@code _ab_cdc_lsn} never decreases per key;
 *   <li>each backfill chunk lies after the previous chunk's {@code resume_after} and up to its own, so a run
 *       resumed from a state with {@code resume_after} K reads no row at or before K again.
 * </ul>
 *
 * Chunk rows are told from change events by the states: a state that moves a stream's {@code rows_done}
 * from R1 to R2 follows the chunk's R2 − R1 rows directly. The last chunk (phase {@code active}, no
 * {@code rows_done}) is recognised by its shared {@code _ab_cdc_lsn} and read time. Every violation is
 * reported with its key, the emitted sequence and the audited history.
 */
final class TortureVerifier {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final String TOMBSTONE = "DELETED";
    /** How many violations of each kind are described in full ({@code -Dtorture.report}). */
    private static final int MAX_REPORTED_PER_KIND = Integer.getInteger("torture.report", 4);

    /** One run as the orchestrator kept it. */
    record KeptRun(int number, JsonNode inputState, List<JsonNode> messages, boolean killed) {}

    private record Audited(long seq, char op, String image) {}

    private record Emitted(int run, boolean backfill, long lsn, String image) {
        String describe() {
            return "run " + run + (backfill ? " backfill" : " change  ") + " lsn " + Lsn.format(lsn) + " (" + lsn + ") "
                    + (image == null ? TOMBSTONE : image);
        }
    }

    private record Progress(String phase, String resumeAfter, long rowsDone) {
        static final Progress PENDING = new Progress("pending", null, 0);
    }

    private final Map<String, TortureTable> tables = new LinkedHashMap<>();
    private final Map<String, Map<String, List<Audited>>> history = new HashMap<>();
    private final Map<String, Map<String, Integer>> ranks = new HashMap<>();
    private final Map<String, Map<String, List<Emitted>>> emitted = new HashMap<>();
    private final List<String> violations = new ArrayList<>();
    private final Map<String, Integer> violationsByKind = new TreeMap<>();
    private long backfilledRecords;
    private long changeRecords;
    private int resumedMidBackfill;

    TortureVerifier(List<TortureTable> tables) {
        for (TortureTable t : tables) {
            this.tables.put(t.name(), t);
            history.put(t.name(), new HashMap<>());
            emitted.put(t.name(), new HashMap<>());
        }
    }

    /** Runs every check; returns the violations found, each described in full (at most a few are kept). */
    List<String> verify(PostgresCluster pg, String database, List<KeptRun> runs) throws SQLException {
        try (Connection c = pg.connect(database)) {
            loadHistory(c);
            loadRanks(c, runs);
            Map<String, Map<String, String>> applied = applyAndCheckOrder(runs);
            compareWithTables(c, applied);
        }
        checkFinalState(runs);
        return violations;
    }

    /** How many violations of each kind were found (only the first few of each are described). */
    Map<String, Integer> violationCounts() {
        return violationsByKind;
    }

    String summary() {
        return backfilledRecords + " backfilled and " + changeRecords + " change records kept; " + resumedMidBackfill
                + " runs resumed from a state in the middle of a backfill";
    }

    // --- the audited history -------------------------------------------------------------------------------

    private void loadHistory(Connection c) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.setFetchSize(10_000);
            c.setAutoCommit(false);
            try (ResultSet rs = st.executeQuery("SELECT seq, tbl, op, old::text, new::text FROM torture_audit ORDER BY seq")) {
                while (rs.next()) {
                    long seq = rs.getLong(1);
                    TortureTable t = tables.get(rs.getString(2));
                    char op = rs.getString(3).charAt(0);
                    JsonNode old = rs.getString(4) == null ? null : MAPPER.readTree(rs.getString(4));
                    JsonNode row = rs.getString(5) == null ? null : MAPPER.readTree(rs.getString(5));
                    Map<String, List<Audited>> byKey = history.get(t.name());
                    if (old != null && (row == null || !keyOf(t, old).equals(keyOf(t, row)))) {
                        byKey.computeIfAbsent(keyOf(t, old), k -> new ArrayList<>()).add(new Audited(seq, op, TOMBSTONE));
                    }
                    if (row != null) {
                        byKey.computeIfAbsent(keyOf(t, row), k -> new ArrayList<>()).add(new Audited(seq, op, imageOf(t, row)));
                    }
                }
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new IllegalStateException(e);
            } finally {
                c.commit();
                c.setAutoCommit(true);
            }
        }
    }

    /** The key as the JSON array of its columns' text forms: how records, audit rows and states all name it. */
    static String keyOf(TortureTable t, JsonNode row) {
        ArrayNode key = MAPPER.createArrayNode();
        for (String column : t.keyColumns()) {
            JsonNode v = row.get(column);
            if (v == null || v.isNull()) {
                throw new AssertionError("key column " + column + " of " + t + " missing in " + row);
            }
            key.add(v.asText());
        }
        return key.toString();
    }

    /** The row image: its columns' JSON values in table order, every number and string as Jackson writes it. */
    static String imageOf(TortureTable t, JsonNode row) {
        StringBuilder sb = new StringBuilder("[");
        for (String column : t.columns()) {
            JsonNode v = row.get(column);
            if (v == null) {
                throw new AssertionError("column " + column + " of " + t + " missing in " + row);
            }
            sb.append(sb.length() > 1 ? "," : "").append(v);
        }
        return sb.append(']').toString();
    }

    // --- key order -----------------------------------------------------------------------------------------

    /** Ranks every key in the history, the records and the states by the table's own key order (ICU collations included). */
    private void loadRanks(Connection c, List<KeptRun> runs) throws SQLException {
        Map<String, java.util.Set<String>> keys = new HashMap<>();
        for (TortureTable t : tables.values()) {
            keys.put(t.name(), new java.util.HashSet<>(history.get(t.name()).keySet()));
        }
        for (KeptRun run : runs) {
            for (JsonNode m : run.messages()) {
                if ("RECORD".equals(m.path("type").asText())) {
                    // A key that never existed still needs a place in the order, to be reported rather than crash.
                    TortureTable t = tables.get(m.at("/record/stream").asText());
                    if (t != null) {
                        keys.get(t.name()).add(keyOf(t, m.at("/record/data")));
                    }
                } else if ("STATE".equals(m.path("type").asText())) {
                    progressOf(m.get("state")).forEach((stream, p) -> {
                        if (p.resumeAfter() != null && keys.containsKey(stream)) {
                            keys.get(stream).add(p.resumeAfter());
                        }
                    });
                }
            }
        }
        for (TortureTable t : tables.values()) {
            List<String> all = new ArrayList<>(keys.get(t.name()));
            int width = t.keyColumns().size();
            String[][] columns = new String[width][all.size()];
            for (int i = 0; i < all.size(); i++) {
                JsonNode parts = readTree(all.get(i));
                for (int k = 0; k < width; k++) {
                    columns[k][i] = parts.get(k).asText();
                }
            }
            Map<String, Integer> rank = new HashMap<>(all.size() * 2);
            try (PreparedStatement ps = c.prepareStatement(t.rankSql())) {
                for (int k = 0; k < width; k++) {
                    Array array = c.createArrayOf("text", columns[k]);
                    ps.setArray(k + 1, array);
                }
                try (ResultSet rs = ps.executeQuery()) {
                    int r = 0;
                    while (rs.next()) {
                        ArrayNode key = MAPPER.createArrayNode();
                        for (int k = 1; k <= width; k++) {
                            key.add(rs.getString(k));
                        }
                        rank.put(key.toString(), r++);
                    }
                }
            }
            ranks.put(t.name(), rank);
        }
    }

    private int rank(String table, String key) {
        Integer r = ranks.get(table).get(key);
        if (r == null) {
            throw new AssertionError("no rank for key " + key + " of " + table);
        }
        return r;
    }

    // --- the records, in order -----------------------------------------------------------------------------

    private Map<String, Map<String, String>> applyAndCheckOrder(List<KeptRun> runs) {
        Map<String, Map<String, String>> applied = new HashMap<>();
        Map<String, Map<String, Long>> lastLsn = new HashMap<>();
        Map<String, Map<String, Integer>> matched = new HashMap<>();
        for (TortureTable t : tables.values()) {
            applied.put(t.name(), new HashMap<>());
            lastLsn.put(t.name(), new HashMap<>());
            matched.put(t.name(), new HashMap<>());
        }
        for (KeptRun run : runs) {
            boolean[] backfill = classifyAndCheckChunks(run);
            int i = 0;
            for (JsonNode m : run.messages()) {
                if (!"RECORD".equals(m.path("type").asText())) {
                    continue;
                }
                int index = i++;
                JsonNode record = m.get("record");
                TortureTable t = tables.get(record.get("stream").asText());
                if (t == null) {
                    violation("stream", "record of a stream that is not captured: " + record);
                    continue;
                }
                JsonNode data = record.get("data");
                boolean delete = data.hasNonNull("_ab_cdc_deleted_at");
                String key = keyOf(t, data);
                String image = delete ? null : imageOf(t, data);
                long lsn = data.get("_ab_cdc_lsn").asLong();
                Emitted e = new Emitted(run.number(), backfill[index], lsn, image);
                emitted.get(t.name()).computeIfAbsent(key, k -> new ArrayList<>()).add(e);
                if (backfill[index]) {
                    backfilledRecords++;
                } else {
                    changeRecords++;
                }

                Long before = lastLsn.get(t.name()).put(key, lsn);
                if (before != null && lsn < before) {
                    List<Emitted> sequence = emitted.get(t.name()).get(key);
                    boolean afterChunk = sequence.size() > 1 && sequence.get(sequence.size() - 2).backfill() && !e.backfill();
                    keyViolation(afterChunk ? "lsn decrease after a chunk" : "lsn decrease", t, key,
                            "_ab_cdc_lsn decreased from " + Lsn.format(before) + " to " + Lsn.format(lsn)
                            + " at the record " + e.describe() + (afterChunk ? " (a change made before the low fence "
                            + "of a chunk that was emitted before the change's transaction committed)" : ""));
                }

                // A chunk row may repeat the image last emitted (a change the chunk's snapshot included was
                // emitted before the chunk); a change event must be newer than anything emitted for its key.
                List<Audited> h = history.get(t.name()).get(key);
                int previous = matched.get(t.name()).getOrDefault(key, -1);
                int from = backfill[index] ? Math.max(previous, 0) : previous + 1;
                String target = delete ? TOMBSTONE : image;
                int found = -1;
                if (h != null) {
                    for (int j = from; j < h.size(); j++) {
                        if (h.get(j).image().equals(target)) {
                            found = j;
                            break;
                        }
                    }
                }
                if (found < 0) {
                    boolean repeated = !backfill[index] && previous >= 0 && h.get(previous).image().equals(target);
                    keyViolation(repeated ? "change emitted again" : "not in history", t, key, "the record " + e.describe()
                            + (repeated ? " repeats the image emitted before it (history position " + previous + ")"
                            : " is not in the key's history " + (backfill[index] ? "at or " : "") + "after the image "
                            + "emitted before it (history position " + previous + ")"));
                } else {
                    matched.get(t.name()).put(key, found);
                }

                if (delete) {
                    applied.get(t.name()).remove(key);
                } else {
                    applied.get(t.name()).put(key, image);
                }
            }
        }
        return applied;
    }

    /**
     * Marks the records of one run that are chunk rows, and checks every chunk against the states around
     * it: rows of one stream, in key order, sharing one {@code _ab_cdc_lsn}, after the stream's previous
     * {@code resume_after} and up to the new one.
     */
    private boolean[] classifyAndCheckChunks(KeptRun run) {
        List<JsonNode> records = new ArrayList<>();
        for (JsonNode m : run.messages()) {
            if ("RECORD".equals(m.path("type").asText())) {
                records.add(m.get("record"));
            }
        }
        boolean[] backfill = new boolean[records.size()];
        Map<String, Progress> progress = new HashMap<>();
        if (run.inputState() != null) {
            progress.putAll(progressOf(run.inputState()));
        }
        Map<String, Boolean> firstChunkSeen = new HashMap<>();
        if (progress.values().stream().anyMatch(p -> p.phase().equals("backfilling"))) {
            resumedMidBackfill++;
        }
        Map<String, Progress> resumedFrom = Map.copyOf(progress);
        int recordIndex = 0;
        int sinceState = 0;
        for (JsonNode m : run.messages()) {
            String type = m.path("type").asText();
            if (type.equals("RECORD")) {
                recordIndex++;
                sinceState++;
                continue;
            }
            if (!type.equals("STATE")) {
                continue;
            }
            Map<String, Progress> next = progressOf(m.get("state"));
            for (Map.Entry<String, Progress> e : next.entrySet()) {
                String stream = e.getKey();
                Progress before = progress.getOrDefault(stream, Progress.PENDING);
                Progress after = e.getValue();
                if (before.equals(after)) {
                    continue;
                }
                String where = "run " + run.number() + ", stream " + stream + ", state moving " + before + " to " + after;
                if (before.phase().equals("active")) {
                    violation("chunk", where + ": a stream whose backfill was complete went back");
                    continue;
                }
                int lower = before.resumeAfter() == null ? -1 : rank(stream, before.resumeAfter());
                List<Integer> chunk = new ArrayList<>();
                if (after.phase().equals("backfilling")) {
                    long n = after.rowsDone() - before.rowsDone();
                    if (n < 0 || n > sinceState) {
                        violation("chunk", where + ": rows_done grew by " + n + " but " + sinceState + " records came since the "
                                + "previous state");
                        continue;
                    }
                    for (int r = recordIndex - (int) n; r < recordIndex; r++) {
                        chunk.add(r);
                    }
                    int upper = rank(stream, after.resumeAfter());
                    if (upper <= lower) {
                        violation("chunk", where + ": resume_after went backwards");
                    }
                    checkChunk(where, records, chunk, stream, lower, upper);
                } else if (after.phase().equals("active")) {
                    // The last chunk: the trailing records of the stream that share one _ab_cdc_lsn and read time.
                    int r = recordIndex - 1;
                    int floor = recordIndex - sinceState;
                    JsonNode last = r >= floor ? records.get(r) : null;
                    while (r >= floor && sameChunk(records.get(r), last, stream)
                            && rank(stream, keyOf(tables.get(stream), records.get(r).get("data"))) > lower) {
                        chunk.add(0, r);
                        r--;
                    }
                    checkChunk(where, records, chunk, stream, lower, Integer.MAX_VALUE);
                } else {
                    violation("chunk", where + ": unexpected phase");
                }
                for (int r : chunk) {
                    backfill[r] = true;
                }
                Progress resumed = resumedFrom.get(stream);
                if (!chunk.isEmpty() && firstChunkSeen.putIfAbsent(stream, true) == null && resumed != null
                        && resumed.resumeAfter() != null) {
                    // The restart invariant: the first backfilled row after resuming comes after resume_after.
                    String first = keyOf(tables.get(stream), records.get(chunk.get(0)).get("data"));
                    if (rank(stream, first) <= rank(stream, resumed.resumeAfter())) {
                        violation("restart re-read", "run " + run.number() + " resumed stream " + stream + " after "
                                + resumed.resumeAfter()
                                + " but its first backfilled row is " + first + ": rows before the resume point were read again");
                    }
                }
            }
            progress.putAll(next);
            sinceState = 0;
        }
        return backfill;
    }

    private static boolean sameChunk(JsonNode record, JsonNode last, String stream) {
        JsonNode d = record.get("data");
        JsonNode l = last.get("data");
        return record.get("stream").asText().equals(stream) && !d.hasNonNull("_ab_cdc_deleted_at")
                && d.get("_ab_cdc_lsn").asLong() == l.get("_ab_cdc_lsn").asLong()
                && Objects.equals(d.path("_ab_cdc_updated_at").asText(), l.path("_ab_cdc_updated_at").asText());
    }

    private void checkChunk(String where, List<JsonNode> records, List<Integer> chunk, String stream, int lower, int upper) {
        TortureTable t = tables.get(stream);
        long lsn = -1;
        int previous = lower;
        for (int r : chunk) {
            JsonNode record = records.get(r);
            JsonNode data = record.get("data");
            if (!record.get("stream").asText().equals(stream) || data.hasNonNull("_ab_cdc_deleted_at")) {
                violation("chunk", where + ": the chunk's rows are not all rows of " + stream + ": " + record);
                return;
            }
            long l = data.get("_ab_cdc_lsn").asLong();
            if (lsn != -1 && l != lsn) {
                violation("chunk", where + ": the chunk's rows do not share one _ab_cdc_lsn: " + record);
            }
            lsn = l;
            int rank = rank(stream, keyOf(t, data));
            if (rank <= previous || rank > upper) {
                violation("chunk", where + ": chunk row " + keyOf(t, data) + " is out of key order or outside the chunk's range "
                        + "(after the previous resume_after, up to the new one)");
            }
            previous = rank;
        }
    }

    /** Each stream's progress in a state object. */
    private static Map<String, Progress> progressOf(JsonNode state) {
        Map<String, Progress> progress = new TreeMap<>();
        for (JsonNode s : state.at("/global/stream_states")) {
            JsonNode p = s.get("stream_state");
            JsonNode resume = p.get("resume_after");
            progress.put(s.at("/stream_descriptor/name").asText(), new Progress(p.path("phase").asText(p.has("resume_after") ? "backfilling" : "active"),
                    resume == null || resume.isNull() ? null : resume.toString(), p.path("rows_done").asLong(0)));
        }
        return progress;
    }

    // --- the end -------------------------------------------------------------------------------------------

    private void compareWithTables(Connection c, Map<String, Map<String, String>> applied) throws SQLException {
        for (TortureTable t : tables.values()) {
            Map<String, String> table = new HashMap<>();
            try (Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery("SELECT to_jsonb(t)::text FROM " + t.name() + " t")) {
                while (rs.next()) {
                    JsonNode row = readTree(rs.getString(1));
                    table.put(keyOf(t, row), imageOf(t, row));
                }
            }
            Map<String, String> got = applied.get(t.name());
            int differences = 0;
            for (Map.Entry<String, String> e : table.entrySet()) {
                String mine = got.get(e.getKey());
                if (!e.getValue().equals(mine)) {
                    differences++;
                    keyViolation("applied output differs", t, e.getKey(), "applied output "
                            + (mine == null ? "lacks the row" : "has " + mine)
                            + " but the table has " + e.getValue());
                }
            }
            for (String key : got.keySet()) {
                if (!table.containsKey(key)) {
                    differences++;
                    keyViolation("applied output differs", t, key, "applied output has " + got.get(key)
                            + " but the table has no such row");
                }
            }
            if (table.size() < 100 && differences == 0) {
                violation("setup", t + " ended with only " + table.size() + " rows: the test did not test much");
            }
        }
    }

    private void checkFinalState(List<KeptRun> runs) {
        KeptRun last = runs.get(runs.size() - 1);
        JsonNode state = null;
        for (JsonNode m : last.messages()) {
            if ("STATE".equals(m.path("type").asText())) {
                state = m.get("state");
            }
        }
        if (state == null) {
            violation("final state", "the final run emitted no state");
            return;
        }
        progressOf(state).forEach((stream, p) -> {
            if (!p.phase().equals("active")) {
                violation("final state", "after the final run, stream " + stream + " is still " + p);
            }
        });
    }

    // --- reporting -----------------------------------------------------------------------------------------

    /** Counts a violation of a kind, and keeps its description if it is one of the first of that kind. */
    private boolean violation(String kind, String text) {
        int n = violationsByKind.merge(kind, 1, Integer::sum);
        if (n <= MAX_REPORTED_PER_KIND) {
            violations.add("[" + kind + "] " + text);
            return true;
        }
        return false;
    }

    private void keyViolation(String kind, TortureTable t, String key, String what) {
        if (violationsByKind.getOrDefault(kind, 0) >= MAX_REPORTED_PER_KIND) {
            violationsByKind.merge(kind, 1, Integer::sum);
            return;
        }
        StringBuilder sb = new StringBuilder(t + " key " + key + ": " + what + "\n  emitted (kept records, in order):");
        for (Emitted e : emitted.get(t.name()).getOrDefault(key, List.of())) {
            sb.append("\n    ").append(e.describe());
        }
        sb.append("\n  audited history (seq op image):");
        for (Audited a : history.get(t.name()).getOrDefault(key, List.of())) {
            sb.append("\n    ").append(a.seq()).append(' ').append(a.op()).append(' ').append(a.image());
        }
        violation(kind, sb.toString());
    }

    private static JsonNode readTree(String json) {
        try {
            return MAPPER.readTree(json);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
