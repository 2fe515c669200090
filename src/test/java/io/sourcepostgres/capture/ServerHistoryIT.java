package io.sourcepostgres.capture;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcepostgres.testing.CaptureFixture;
import io.sourcepostgres.testing.ConnectorRun;
import io.sourcepostgres.testing.PostgresCluster;
import io.sourcepostgres.testing.PostgresExtension;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A server with the same system identifier but another history than the state's: a copy of the data directory
 * put back (the WAL ends before the state's position), an archive recovery that started a new timeline before
 * the state's position (what a point-in-time restore and the promotion of a lagging standby do), a slot dropped
 * and made again. Each is refused with a config error before the slot is told anything; all through the real
 * launcher.
 */
@ExtendWith(PostgresExtension.class)
class ServerHistoryIT {
    private static final long TIMEOUT = 180;

    private static void assertRefused(ConnectorRun run, String... fragments) {
        assertThat(run.exitCode()).as(run.toString()).isNotZero();
        assertThat(run.records()).isEmpty();
        assertThat(run.states()).isEmpty();
        assertThat(run.error().get("failure_type").asText()).as(run.toString()).isEqualTo("config_error");
        assertThat(run.error().get("message").asText()).contains(fragments);
    }

    private static ConnectorRun launched(CaptureFixture f) {
        ConnectorRun run = f.launch(TIMEOUT);
        assertThat(run.exitCode()).as(run.toString()).isZero();
        return run;
    }

    private static Set<Integer> ids(ConnectorRun run) {
        Set<Integer> ids = new TreeSet<>();
        run.records().forEach(r -> ids.add(r.at("/data/id").asInt()));
        return ids;
    }

    /** Stops the server and copies its data directory aside, as a cold backup; starts it again. */
    private static Path coldCopy(PostgresCluster pg) throws Exception {
        pg.stop();
        Path copy = pg.dataDir().resolveSibling(pg.dataDir().getFileName() + "-copy");
        run("cp", "-a", pg.dataDir().toString(), copy.toString());
        pg.restart();
        return copy;
    }

    /** Stops the server and puts the copy back in place of its data directory. */
    private static void restore(PostgresCluster pg, Path copy) throws Exception {
        pg.stop();
        run("rm", "-rf", pg.dataDir().toString());
        run("mv", copy.toString(), pg.dataDir().toString());
    }

    private static void run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).inheritIO().start();
        assertThat(p.waitFor()).as(String.join(" ", command)).isZero();
    }

    @Test
    void aStateBeyondTheEndOfARestoredServersWalIsRefused() throws Exception {
        try (PostgresCluster pg = PostgresCluster.start(); CaptureFixture f = new CaptureFixture(pg)) {
            f.sql("CREATE TABLE t (id int PRIMARY KEY, pad text)");
            f.capture("public", "t");
            launched(f);
            Path copy = coldCopy(pg);
            f.sql("INSERT INTO t SELECT g, repeat('x', 200) FROM generate_series(1, 2000) g");
            launched(f); // its state lies beyond the end of the copy's WAL
            restore(pg, copy);
            pg.restart();
            String slotBefore = f.slotConfirmedFlush();

            assertRefused(f.launch(TIMEOUT), "lies beyond the end of this server's WAL", "restored",
                    "reset the connection");
            assertThat(f.slotConfirmedFlush()).as("the slot was told nothing").isEqualTo(slotBefore);
            assertThat(CaptureFixture.lsn(f.slotConfirmedFlush()))
                    .isLessThanOrEqualTo(CaptureFixture.lsn(f.scalar("SELECT pg_current_wal_lsn()::text")));
        }
    }

    @Test
    void aStateFromBeyondWhereTheServersTimelineBranchedOffIsRefused() throws Exception {
        try (PostgresCluster pg = PostgresCluster.start(); CaptureFixture f = new CaptureFixture(pg)) {
            f.sql("CREATE TABLE t (id int PRIMARY KEY, pad text)", "INSERT INTO t VALUES (0, 'before')");
            f.capture("public", "t");
            launched(f);
            JsonNode beforeTheCopy = f.state();
            Path copy = coldCopy(pg);
            f.sql("INSERT INTO t SELECT g, 'lost history' FROM generate_series(1, 100) g");
            launched(f);
            JsonNode oldHistory = f.state();
            long oldPosition = CaptureFixture.lsn(oldHistory.at("/global/shared_state/position").asText());

            // Archive recovery of the copy with no archive: it replays its own WAL, then starts timeline 2 there,
            // exactly where a point-in-time restore or a promoted standby would branch off.
            restore(pg, copy);
            Files.writeString(pg.dataDir().resolve("postgresql.conf"), "\nrestore_command = 'false'\n",
                    StandardOpenOption.APPEND);
            Files.writeString(pg.dataDir().resolve("recovery.signal"), "");
            pg.restart();
            // pg_ctl returns once the server takes read-only connections; the new timeline begins when recovery ends.
            for (long deadline = System.nanoTime() + 60_000_000_000L; "t".equals(f.scalar("SELECT pg_is_in_recovery()")); ) {
                assertThat(System.nanoTime()).as("archive recovery ends").isLessThan(deadline);
                Thread.sleep(50);
            }
            assertThat(f.scalar("SELECT substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)"))
                    .as(Files.readString(pg.dataDir().resolve("server.log"))).isEqualTo("00000002");
            f.sql("CREATE TABLE filler (pad text)");
            for (int i = 0; CaptureFixture.lsn(f.scalar("SELECT pg_current_wal_lsn()::text")) <= oldPosition; i++) {
                assertThat(i).as("the new timeline's WAL passes the state's position").isLessThan(50);
                f.sql("INSERT INTO t SELECT g, 'new history' FROM generate_series(1000 + " + i * 100 + ", 1099 + "
                        + i * 100 + ") g", "INSERT INTO filler SELECT repeat('f', 500) FROM generate_series(1, 200)");
            }
            String slotBefore = f.slotConfirmedFlush();

            f.setState(oldHistory);
            assertRefused(f.launch(TIMEOUT), "left WAL timeline 1 at", "timeline 2", "reset the connection");
            assertThat(f.slotConfirmedFlush()).as("the slot was told nothing").isEqualTo(slotBefore);
            assertThat(beforeTheCopy.at("/global/shared_state/timeline").asInt()).isEqualTo(1);

            // A state taken before the branch point is on both histories: it resumes, and sees the new one.
            f.setState(beforeTheCopy);
            ConnectorRun resumed = launched(f);
            assertThat(ids(resumed)).contains(1000, 1099).doesNotContain(1, 100);
            assertThat(f.state().at("/global/shared_state/timeline").asInt()).isEqualTo(2);
        }
    }

    @Test
    void aStateWithoutATimelineStillWorksAndGainsOne(PostgresCluster pg) {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            f.sql("CREATE TABLE t (id int PRIMARY KEY)");
            f.capture("public", "t");
            launched(f);
            ObjectNode old = f.state().deepCopy();
            ((ObjectNode) old.at("/global/shared_state")).remove("timeline");
            f.setState(old);
            f.sql("INSERT INTO t VALUES (1)");
            ConnectorRun run = launched(f);
            assertThat(ids(run)).containsExactly(1);
            assertThat(f.state().at("/global/shared_state/timeline").asInt()).isEqualTo(1);
        }
    }

    @Test
    void aSlotDroppedAndRecreatedSinceTheStateIsRefused(PostgresCluster pg) {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            f.sql("CREATE TABLE t (id int PRIMARY KEY)");
            f.capture("public", "t");
            launched(f);
            f.sql("INSERT INTO t VALUES (1)");
            f.sql("SELECT pg_drop_replication_slot('" + f.slot + "')");
            f.sql("SELECT pg_create_logical_replication_slot('" + f.slot + "', 'pgoutput')");
            assertRefused(f.launch(TIMEOUT), "moved past the state's position", "dropped and recreated");
        }
    }
}
