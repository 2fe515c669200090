package io.sourcepostgres.capture;

import io.sourcepostgres.state.CheckpointPolicy;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcepostgres.testing.AppliedRecords;
import io.sourcepostgres.testing.CaptureFixture;
import io.sourcepostgres.testing.ConnectorRun;
import io.sourcepostgres.testing.PostgresCluster;
import io.sourcepostgres.testing.PostgresExtension;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Thousands of streams through the real launcher: the checkpoint policy's promises. Every GLOBAL state lists
 * every stream, so a state per commit or per chunk would be nearly all of the output; the policy bounds the
 * states by the output written (at most one per 39 times its size) and by time (at most one per second of
 * run), never repeats a state, and ends a run that is caught up with a state at its end.
 */
@ExtendWith(PostgresExtension.class)
class ManyTablesIT {
    private static final int TABLES = 2000;

    @Test
    void statesStayASmallShareWhileEveryTableArrivesWhole(PostgresCluster pg) throws Exception {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            f.sql("DO $$ BEGIN FOR i IN 1 .. " + TABLES + " LOOP "
                    + "EXECUTE format('CREATE TABLE %I (id bigint PRIMARY KEY, v text, n int)', 't' || i); "
                    + "EXECUTE format('INSERT INTO %I SELECT g, md5(g::text), g FROM generate_series(1, 10) g', 't' || i); "
                    + "IF i % 200 = 0 THEN COMMIT; END IF; "
                    + "END LOOP; END $$");
            for (int i = 1; i <= TABLES; i++) {
                f.capture("public", "t" + i);
            }

            // The first read backfills every table.
            long started = System.nanoTime();
            ConnectorRun first = f.launch(900);
            long seconds = Math.max(1, (System.nanoTime() - started) / 1_000_000_000L);
            assertThat(first.exitCode()).as(() -> first.stderr() + first.traces("ERROR")).isZero();
            assertThat(first.records()).hasSize(TABLES * 10);
            checkPolicy(first, seconds);
            assertThat(first.states().get(first.states().size() - 1).at("/global/stream_states")).hasSize(TABLES);

            // Many single-row commits on a few tables, then one on every table: streamed from the state.
            f.sql("DO $$ BEGIN FOR k IN 0 .. 19999 LOOP "
                    + "EXECUTE format('UPDATE %I SET n = n + 1 WHERE id = %s', 't' || (k % 10 + 1), k / 10 % 10 + 1); "
                    + "COMMIT; END LOOP; END $$",
                    "DO $$ BEGIN FOR i IN 1 .. " + TABLES + " LOOP "
                    + "EXECUTE format('UPDATE %I SET v = ''changed'' WHERE id = 10', 't' || i); COMMIT; END LOOP; END $$");
            String end = f.scalar("SELECT pg_current_wal_lsn()::text");
            started = System.nanoTime();
            ConnectorRun next = f.launch(900);
            seconds = Math.max(1, (System.nanoTime() - started) / 1_000_000_000L);
            assertThat(next.exitCode()).as(() -> next.stderr() + next.traces("ERROR")).isZero();
            assertThat(next.records()).hasSize(20_000 + TABLES);
            checkPolicy(next, seconds);
            // The run ended caught up: its last state is at (or, by the run's own end fence, just past) the last commit.
            JsonNode last = next.states().get(next.states().size() - 1);
            assertThat(CaptureFixture.lsn(last.at("/global/shared_state/position").asText()))
                    .isGreaterThanOrEqualTo(CaptureFixture.lsn(end));

            // Applying both runs' records gives every table exactly.
            List<JsonNode> all = new ArrayList<>(first.records());
            all.addAll(next.records());
            Map<String, JsonNode> applied = AppliedRecords.apply(withKeys(all), data -> data.get("_key").asText());
            assertThat(applied).hasSize(TABLES * 10);
            try (Connection c = pg.connect(f.database); Statement st = c.createStatement()) {
                for (int i = 1; i <= TABLES; i += 97) {
                    try (ResultSet rs = st.executeQuery("SELECT id, v, n FROM \"t" + i + "\" ORDER BY id")) {
                        while (rs.next()) {
                            JsonNode row = applied.get("t" + i + "/" + rs.getLong(1));
                            assertThat(row).as("t" + i + " row " + rs.getLong(1)).isNotNull();
                            assertThat(row.get("v").asText()).isEqualTo(rs.getString(2));
                            assertThat(row.get("n").asLong()).isEqualTo(rs.getLong(3));
                        }
                    }
                }
            }
        }
    }

    /**
     * The statements a read sends do not grow by a handful per table at start: the catalog facts of all tables
     * (what the publication publishes of each, scan keys, replica identities, publication membership) come in a
     * few queries. Counted by pg_stat_statements on a server of its own: a read from a state with nothing to do
     * sends a number of statements that does not depend on how many tables it captures, and the first read a
     * bounded number per table (a chunk's read, its fence and its writers: nine statements as
     * pg_stat_statements counts them, the COPY and its query apart).
     */
    @Test
    void statementsPerTableStayFew() throws Exception {
        int tables = 300;
        try (PostgresCluster pg = PostgresCluster.start(PostgresCluster.options()
                        .set("shared_preload_libraries", "pg_stat_statements").set("pg_stat_statements.track", "all"));
                CaptureFixture f = new CaptureFixture(pg)) {
            f.sql("CREATE EXTENSION pg_stat_statements",
                    "DO $$ BEGIN FOR i IN 1 .. " + tables + " LOOP "
                    + "EXECUTE format('CREATE TABLE %I (id bigint PRIMARY KEY, v text)', 's' || i); "
                    + "EXECUTE format('INSERT INTO %I VALUES (1, ''a''), (2, ''b'')', 's' || i); "
                    + "END LOOP; END $$");
            for (int i = 1; i <= tables; i++) {
                f.capture("public", "s" + i);
            }
            f.createPublicationAndSlot();

            f.sql("SELECT pg_stat_statements_reset()");
            ConnectorRun first = f.read();
            long firstStatements = statementsSinceReset(f);
            assertThat(first.exitCode()).as(() -> first.stderr() + first.traces("ERROR")).isZero();
            assertThat(first.records()).hasSize(tables * 2);
            assertThat(firstStatements).as("statements of the first read of " + tables + " tables")
                    .isLessThanOrEqualTo(10L * tables + 100);

            f.sql("SELECT pg_stat_statements_reset()");
            ConnectorRun idle = f.read();
            long idleStatements = statementsSinceReset(f);
            assertThat(idle.exitCode()).as(() -> idle.stderr() + idle.traces("ERROR")).isZero();
            assertThat(idle.records()).isEmpty();
            assertThat(idleStatements).as("statements of a read of " + tables + " tables with nothing to do")
                    .isLessThanOrEqualTo(100);
        }
    }

    /** The statements run in the fixture's database since pg_stat_statements was last reset, this count left out. */
    private static long statementsSinceReset(CaptureFixture f) {
        return Long.parseLong(f.scalar("SELECT coalesce(sum(calls), 0) FROM pg_stat_statements s"
                + " JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = current_database()"
                + " AND s.query NOT LIKE '%pg_stat_statements%'"));
    }

    /** Records with their stream folded into a {@code _key} field of their data, so that keys of all tables differ. */
    private static List<JsonNode> withKeys(List<JsonNode> records) {
        List<JsonNode> keyed = new ArrayList<>();
        for (JsonNode r : records) {
            com.fasterxml.jackson.databind.node.ObjectNode copy = r.deepCopy();
            ((com.fasterxml.jackson.databind.node.ObjectNode) copy.get("data"))
                    .put("_key", r.get("stream").asText() + "/" + r.at("/data/id").asText());
            keyed.add(copy);
        }
        return keyed;
    }

    /**
     * The policy's promises on one run's output: no two identical states in a row; at most one state per 39
     * times a state's size of output, plus one per second of the run, plus the last; the output ends with a
     * state (records need one behind them).
     */
    private static void checkPolicy(ConnectorRun run, long seconds) {
        List<String> lines = run.stdout().lines().toList();
        long stdoutBytes = run.stdout().getBytes(StandardCharsets.UTF_8).length;
        long stateBytes = 0;
        long largest = 0;
        JsonNode previous = null;
        int lastState = -1;
        int lastRecord = -1;
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.startsWith("{\"type\":\"STATE\"")) {
                stateBytes += line.length() + 1;
                largest = Math.max(largest, line.length() + 1);
                lastState = i;
            } else if (line.startsWith("{\"type\":\"RECORD\"")) {
                lastRecord = i;
            }
        }
        for (JsonNode s : run.states()) {
            assertThat(s.get("global")).as("two identical states in a row").isNotEqualTo(previous);
            previous = s.get("global");
        }
        assertThat(lastState).as("the output ends with a state").isGreaterThan(lastRecord);
        long budgeted = stdoutBytes / (CheckpointPolicy.RECORD_BYTES_PER_STATE_BYTE * largest);
        assertThat((long) run.states().size()).as("states of " + largest + " bytes in " + stdoutBytes + " bytes of output, "
                + stateBytes + " of them states, in a run of " + seconds + " s")
                .isLessThanOrEqualTo(budgeted + seconds + 2);
    }
}
