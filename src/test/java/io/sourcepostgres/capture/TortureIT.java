package io.sourcepostgres.capture;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcepostgres.testing.Await;
import io.sourcepostgres.testing.CaptureFixture;
import io.sourcepostgres.testing.PostgresCluster;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The torture test: seven tables with different key types (two with a large out-of-line column that
 * updates mostly leave alone, under the default replica identity and under FULL) and a few hundred thousand
 * preexisting rows, writers changing them throughout (inserts, updates, key changes, deletes; multi-row,
 * multi-table, rolled back, slow and prepared (two-phase) transactions), a small backfill chunk and a STATE after every commit, and the real launcher
 * killed with SIGKILL at random moments again and again, each run resumed from the last state the previous
 * one emitted — records after that state are dropped, as an orchestrator that commits at each state drops
 * them. Then the writers stop and a last run completes. {@link TortureVerifier} says what must hold.
 *
 * <p>Sizes are system properties with CI defaults: {@code torture.rows} (preexisting rows per table),
 * {@code torture.kills}, {@code torture.chunkSize}, {@code torture.writers}, {@code torture.writerPauseMs},
 * {@code torture.slowTransactions}, {@code torture.lockedUpdates}, {@code torture.prepared}, {@code torture.decodingWorkMem},
 * {@code torture.report}; {@code torture.seed} repeats the random choices (writers and kill
 * moments; thread timing stays the machine's).
 */
class TortureIT {
    private static final long SEED = Long.getLong("torture.seed", System.currentTimeMillis());
    private static final int ROWS = Integer.getInteger("torture.rows", 50_000);
    private static final int KILLS = Integer.getInteger("torture.kills", 24);
    /** Each run's chunk size is drawn from [CHUNK_SIZE / 2, 3 * CHUNK_SIZE / 2]. */
    private static final int CHUNK_SIZE = Integer.getInteger("torture.chunkSize", 100);
    private static final int WRITERS = Integer.getInteger("torture.writers", 3);
    private static final int WRITER_PAUSE_MS = Integer.getInteger("torture.writerPauseMs", 6);
    private static final String DECODING_WORK_MEM = System.getProperty("torture.decodingWorkMem", "64kB");
    private static final boolean SLOW_TRANSACTIONS =
            Boolean.parseBoolean(System.getProperty("torture.slowTransactions", "true"));
    private static final boolean LOCKED_UPDATES =
            Boolean.parseBoolean(System.getProperty("torture.lockedUpdates", "true"));
    private static final boolean PREPARED =
            Boolean.parseBoolean(System.getProperty("torture.prepared", "true"));

    @Test
    void killedOverAndOverTheCaptureStillEqualsTheTablesAndFollowsEachRowsHistory() throws Exception {
        // A server of its own: prepared transactions need max_prepared_transactions > 0.
        try (PostgresCluster pg = PostgresCluster.start(PostgresCluster.options().set("max_prepared_transactions", "20"))) {
            torture(pg);
        }
    }

    private void torture(PostgresCluster pg) throws Exception {
        long began = System.nanoTime();
        System.out.println("TortureIT seed " + SEED + " (repeat with -Dtorture.seed=" + SEED + "), " + ROWS
                + " rows per table, chunk " + CHUNK_SIZE + ", " + KILLS + " kills, " + WRITERS + " writers");
        Random random = new Random(SEED);
        List<TortureTable> tables = TortureTable.all();
        try (CaptureFixture f = new CaptureFixture(pg)) {
            prepare(f, tables);
            f.config().put("backfill_chunk_size", CHUNK_SIZE);
            f.config().put("checkpoint_interval_ms", 0);
            f.config().put("create_publication", false);
            for (TortureTable t : tables) {
                f.capture("public", t.name());
            }
            System.out.printf("TortureIT: tables filled in %.1f s%n", (System.nanoTime() - began) / 1e9);

            Runs runs = new Runs();
            try (TortureWriters writers = new TortureWriters(pg, f.database, tables, 2 * ROWS, SLOW_TRANSACTIONS,
                    LOCKED_UPDATES, PREPARED, WRITER_PAUSE_MS)) {
                writers.start(WRITERS, SEED);
                // The first run starts among running transactions: the writers are under way.
                Await.until(10 * WRITERS + " commits of the writers", Duration.ofSeconds(120),
                        () -> writers.commits.get() >= 10L * WRITERS);
                // Shape changes while the connector runs and writers write: once a third of the kills are done a
                // column is added (its default on existing rows is in no change record: the check compares the
                // torture columns), once two thirds are, a column's type changes (a table rewrite). Each waits
                // for its moment by the kill count, then for the next run to be under way.
                ShapeChanges shapes = new ShapeChanges(pg, f.database, runs);
                shapes.start();
                while (runs.kills < KILLS) {
                    runs.killedRun(f, random, tables.size() * ROWS);
                    assertThat(writers.unexpected).as("writer failures").isEmpty();
                }
                shapes.finish();
                writers.close();
                System.out.println("TortureIT writers: " + writers.summary());
                assertThat(writers.unexpected).as("writer failures").isEmpty();
            }
            runs.finalRun(f);

            TortureVerifier verifier = new TortureVerifier(tables);
            List<String> violations = verifier.verify(pg, f.database, runs.kept);
            System.out.println("TortureIT: " + runs.kills + " kills (" + runs.killsMidBackfill + " during a backfill) in "
                    + runs.kept.size()
                    + " runs; " + verifier.summary() + "; violations " + verifier.violationCounts() + "; "
                    + String.format("%.1f s in all", (System.nanoTime() - began) / 1e9));
            assertThat(violations).as("violations (seed %d): %s; the first ones of each kind:%n%s", SEED,
                    verifier.violationCounts(), String.join("\n\n", violations)).isEmpty();
            assertThat(runs.kills).isGreaterThanOrEqualTo(KILLS);
            assertThat(runs.killsMidBackfill).as("kills that hit a backfill").isGreaterThan(0);
        }
    }

    /** ALTER TABLE while the capture runs: an added column on t_int, then a type change on t_uuid. */
    private static final class ShapeChanges extends Thread {
        private static final List<String> STATEMENTS = List.of(
                "ALTER TABLE t_int ADD COLUMN extra int DEFAULT 7",
                "ALTER TABLE t_uuid ALTER COLUMN x TYPE numeric");
        private final PostgresCluster pg;
        private final String database;
        private final Runs runs;
        private volatile Throwable failure;
        private volatile int done;

        ShapeChanges(PostgresCluster pg, String database, Runs runs) {
            super("torture-shape-changes");
            setDaemon(true);
            this.pg = pg;
            this.database = database;
            this.runs = runs;
        }

        @Override
        public void run() {
            try (java.sql.Connection c = pg.connect(database); java.sql.Statement st = c.createStatement()) {
                st.execute("SET lock_timeout = '60s'");
                for (int i = 0; i < STATEMENTS.size(); i++) {
                    int moment = (i + 1) * KILLS / (STATEMENTS.size() + 1);
                    synchronized (runs) {
                        while (runs.kills < moment || !runs.running) {
                            runs.wait();
                        }
                    }
                    st.execute(STATEMENTS.get(i));
                    done = i + 1;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (Throwable e) {
                failure = e;
            }
        }

        void finish() throws InterruptedException {
            join(120_000);
            assertThat(failure).as("shape changes").isNull();
            assertThat(done).as("shape changes made while the capture ran").isEqualTo(STATEMENTS.size());
        }
    }

    /** The runs so far as the orchestrator kept them, and the state it carries from one to the next. */
    private static final class Runs {
        final List<TortureVerifier.KeptRun> kept = new ArrayList<>();
        volatile boolean running;
        int kills;
        int killsMidBackfill;
        JsonNode state;

        /** A run resumed from the carried state and killed at a random moment (unless it ends first). */
        void killedRun(CaptureFixture f, Random random, int totalRows) {
            int number = kept.size() + 1;
            assertThat(number).as("runs that ended before their kill moment, too many of them").isLessThan(KILLS * 4);
            // A kill at a moment in time, or right after some state or some record (between a chunk's rows and
            // its state, say); the connector runs on a little while the kill is on its way. Record counts are
            // scaled so that the backfill spans most of the kills.
            int kind = random.nextInt(3);
            LaunchedCapture.KillPlan plan = kind == 0 ? new LaunchedCapture.KillPlan(300 + random.nextInt(2700), 0, 0)
                    : kind == 1 ? new LaunchedCapture.KillPlan(0, 1 + random.nextInt(300), 0)
                    : new LaunchedCapture.KillPlan(0, 0, 1 + random.nextInt(2 * totalRows / KILLS));
            // Half the runs stream until killed; the others may also end by themselves once caught up.
            f.config().put("tail", random.nextBoolean());
            // A chunk size of its own per run (a configuration change between runs is allowed).
            f.config().put("backfill_chunk_size", CHUNK_SIZE / 2 + random.nextInt(CHUNK_SIZE + 1));
            f.setState(state);
            synchronized (this) {
                running = true;
                notifyAll();
            }
            LaunchedCapture.Result result;
            try {
                result = LaunchedCapture.run(f.args(), plan);
            } finally {
                synchronized (this) {
                    running = false;
                }
            }
            assertThat(result.errors()).as("run %d failed: %s", number, result.stderr()).isEmpty();
            if (!result.killed()) {
                assertThat(result.exitCode()).as("run %d ended by itself: %s", number, result.stderr()).isZero();
                assertThat(result.recordsAfterLastState()).as("records after the final state of run %d", number).isZero();
            }
            kept.add(new TortureVerifier.KeptRun(number, state, result.kept(), result.killed()));
            boolean midBackfill = backfilling(state) || backfilling(result.lastState());
            if (result.lastState() != null) {
                state = result.lastState();
            }
            if (result.killed()) {
                synchronized (this) {
                    kills++;
                    notifyAll();
                }
                killsMidBackfill += midBackfill ? 1 : 0;
            }
            System.out.printf("TortureIT run %d (chunk %d%s): %s, %s after %d ms, %d messages, %d kept%s%n", number,
                    f.config().get("backfill_chunk_size").asInt(), f.config().get("tail").asBoolean() ? ", tail" : "",
                    plan, result.killed() ? "killed" : "exited " + result.exitCode(), result.millis(),
                    result.messages().size(), result.kept().size(), midBackfill ? ", mid-backfill" : "");
        }

        /** With the writers stopped, a run to completion from the carried state. */
        void finalRun(CaptureFixture f) {
            f.config().put("tail", false);
            f.config().put("backfill_chunk_size", CHUNK_SIZE);
            f.setState(state);
            LaunchedCapture.Result last = LaunchedCapture.run(f.args(), LaunchedCapture.KillPlan.never(300_000));
            assertThat(last.errors()).as("the final run failed: %s", last.stderr()).isEmpty();
            assertThat(last.exitCode()).as("the final run: %s", last.stderr()).isZero();
            assertThat(last.recordsAfterLastState()).as("records after the final state").isZero();
            kept.add(new TortureVerifier.KeptRun(kept.size() + 1, state, last.kept(), false));
            System.out.printf("TortureIT final run: %d ms, %d messages%n", last.millis(), last.messages().size());
        }
    }

    private static boolean backfilling(JsonNode state) {
        if (state == null) {
            return true;
        }
        for (JsonNode s : state.at("/global/stream_states")) {
            if (!"active".equals(s.at("/stream_state/phase").asText())) {
                return true;
            }
        }
        return false;
    }

    /** Key functions, tables, the audit trigger (history of every row change), the rows, the publication. */
    private static void prepare(CaptureFixture f, List<TortureTable> tables) {
        List<String> sql = new ArrayList<>(TortureTable.keyFunctions());
        // Unlogged: it is not replicated and costs little WAL; it rolls back with the change it records.
        sql.add("CREATE UNLOGGED TABLE torture_audit (seq bigserial PRIMARY KEY, tbl text NOT NULL, op \"char\" NOT NULL,"
                + " old jsonb, new jsonb)");
        sql.add("CREATE FUNCTION torture_audit_row() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                + "INSERT INTO torture_audit (tbl, op, old, new) VALUES (TG_TABLE_NAME, left(TG_OP, 1), "
                + "CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END, CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END); "
                + "RETURN NULL; END $$");
        List<String> names = new ArrayList<>();
        for (TortureTable t : tables) {
            sql.add(t.createSql());
            sql.add("CREATE TRIGGER torture_audit AFTER INSERT OR UPDATE OR DELETE ON " + t.name()
                    + " FOR EACH ROW EXECUTE FUNCTION torture_audit_row()");
            sql.add(t.fillSql(ROWS));
            sql.add("ANALYZE " + t.name());
            names.add(t.name());
        }
        // Transactions past this much decoded change data are streamed before they commit (protocol 2, 14+),
        // so the merge of chunks with streamed transactions is tortured too.
        if (f.pg.majorVersion() >= 13) {
            sql.add("ALTER DATABASE " + TortureTable.quote(f.database) + " SET logical_decoding_work_mem = '"
                    + DECODING_WORK_MEM + "'");
        }
        sql.add("CREATE PUBLICATION " + TortureTable.quote(f.publication) + " FOR TABLE " + String.join(", ", names));
        f.sql(sql.toArray(String[]::new));
    }
}
