package io.sourcepostgres.capture;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sourcepostgres.testing.CaptureFixture;
import io.sourcepostgres.testing.ConnectorProcess;
import io.sourcepostgres.testing.ConnectorRun;
import io.sourcepostgres.testing.PostgresCluster;
import io.sourcepostgres.testing.ProtocolValidator;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Transactions far larger than the connector's heap. On PostgreSQL 14+ a server with a tiny
 * {@code logical_decoding_work_mem} streams them while they are still in progress (pgoutput protocol 2);
 * the connector spills each to disk and emits it at its commit, drops it on abort, and drops a rolled-back
 * savepoint's part. On 12–13 the server holds them itself and sends them at commit; the outcome must be
 * the same. The real launcher runs with a 128 MB heap; every row must arrive exactly once, and the peak
 * resident memory must not grow with the transaction's size.
 */
class LargeTransactionIT {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    /** Size of the large transaction's row data; {@code -Dlarge.tx.mb} overrides it. */
    private static final int LARGE_MB = Integer.getInteger("large.tx.mb", 1024);
    private static final int SMALL_MB = 100;
    private static final int ROW_BYTES = 1000;
    private static final String JAVA_OPTS = "-Xms128m -Xmx128m -XX:+AlwaysPreTouch -XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError";

    private static PostgresCluster server;

    @BeforeAll
    static void startServer() {
        PostgresCluster.Options options = PostgresCluster.options().set("max_wal_size", "4GB");
        if (Integer.parseInt(PostgresCluster.VERSION) >= 13) {
            options.set("logical_decoding_work_mem", "64kB");
        }
        server = PostgresCluster.start(options);
    }

    @AfterAll
    static void stopServer() {
        if (server != null) {
            server.close();
        }
    }

    /** What a run printed, counted as it streamed by: nothing the size of the transaction is kept. */
    private static final class Tally {
        final BitSet seen = new BitSet();
        long records;
        long duplicates;
        long idSum;
        final List<JsonNode> others = new ArrayList<>();

        void accept(String line) {
            if (line.startsWith("{\"type\":\"RECORD\"")) {
                int at = line.indexOf("\"data\":{\"id\":");
                if (at < 0) {
                    throw new AssertionError("a record without its id first: " + line.substring(0, Math.min(300, line.length())));
                }
                int start = at + 13;
                int end = start;
                while (Character.isDigit(line.charAt(end))) {
                    end++;
                }
                int id = Integer.parseInt(line.substring(start, end));
                if (records < 20 || records % 100_000 == 0) {
                    validate(line); // a sample: validating a million messages would take longer than the run
                }
                records++;
                idSum += id;
                if (seen.get(id)) {
                    duplicates++;
                }
                seen.set(id);
            } else {
                others.add(validate(line));
            }
        }

        private static JsonNode validate(String line) {
            try {
                JsonNode node = MAPPER.readTree(line);
                ProtocolValidator.assertValidMessage(node);
                return node;
            } catch (IOException e) {
                throw new AssertionError("stdout line is not JSON: " + line, e);
            }
        }
    }

    private record Outcome(ConnectorRun run, Tally tally, long peakRssKb) {}

    private static Outcome read(CaptureFixture f, Path tmp) {
        Tally tally = new Tally();
        try (ConnectorProcess p = ConnectorProcess.builder(f.args())
                .env("SOURCE_POSTGRES_JAVA_OPTS", JAVA_OPTS + " -Djava.io.tmpdir=" + tmp)
                .onLine(tally::accept)
                .start()) {
            ConnectorRun run = p.finish(Duration.ofMinutes(10));
            List<JsonNode> states = tally.others.stream().filter(m -> m.path("type").asText().equals("STATE"))
                    .map(m -> m.get("state")).toList();
            if (!states.isEmpty()) {
                f.setState(states.get(states.size() - 1));
            }
            ConnectorRun withOthers = new ConnectorRun(run.exitCode(), tally.others, "", run.stderr());
            return new Outcome(withOthers, tally, p.peakRssKb());
        }
    }

    private static CaptureFixture capture(Path tmp) {
        CaptureFixture f = new CaptureFixture(server);
        f.sql("CREATE TABLE big (id int PRIMARY KEY, pad text NOT NULL)");
        f.capture("public", "big");
        Outcome first = read(f, tmp);
        assertThat(first.run().exitCode()).as(first.run().toString()).isZero();
        return f;
    }

    private static String insertRows(long from, long to) {
        return "INSERT INTO big SELECT g, repeat(chr(97 + g % 26), " + ROW_BYTES + ") FROM generate_series(" + from + ", " + to + ") g";
    }

    private static long rowsFor(int megabytes) {
        return megabytes * 1_000_000L / ROW_BYTES;
    }

    /** Writes one transaction of {@code rows} rows and reads it; returns what the run saw. */
    private static Outcome oneTransaction(long rows, Path tmp) {
        try (CaptureFixture f = capture(tmp)) {
            f.sql(insertRows(1, rows));
            Outcome o = read(f, tmp);
            assertThat(o.run().exitCode()).as(o.run().toString()).isZero();
            assertThat(o.tally().duplicates).isZero();
            assertThat(o.tally().records).isEqualTo(rows);
            assertThat(o.tally().idSum).isEqualTo(rows * (rows + 1) / 2);
            assertThat(o.tally().seen.cardinality()).isEqualTo((int) rows);
            assertStreamedOnProtocol2(f);
            assertThat(leftovers(tmp)).as("spill files are removed").isEmpty();
            return o;
        }
    }

    @Test
    void aTransactionLargerThanTheHeapArrivesExactlyOnceAndMemoryDoesNotGrowWithIt(@TempDir Path tmp) {
        Outcome small = oneTransaction(rowsFor(SMALL_MB), tmp);
        Outcome large = oneTransaction(rowsFor(LARGE_MB), tmp);
        assertThat(large.peakRssKb()).isPositive();
        assertThat(large.peakRssKb() - small.peakRssKb()).as("peak RSS growth from %d MB (%d kB) to %d MB (%d kB)",
                        SMALL_MB, small.peakRssKb(), LARGE_MB, large.peakRssKb())
                .isLessThan(64 * 1024);
    }

    @Test
    void aStreamedTransactionThatRollsBackEmitsNothing(@TempDir Path tmp) {
        try (CaptureFixture f = capture(tmp)) {
            f.sql("BEGIN; " + insertRows(1, 30_000) + "; ROLLBACK");
            f.sql(insertRows(100_001, 100_010));
            Outcome o = read(f, tmp);
            assertThat(o.run().exitCode()).as(o.run().toString()).isZero();
            assertThat(o.tally().records).isEqualTo(10);
            assertThat(o.tally().seen.stream().boxed().toList()).containsExactlyElementsOf(
                    java.util.stream.IntStream.rangeClosed(100_001, 100_010).boxed().toList());
            assertStreamedOnProtocol2(f);
            assertThat(leftovers(tmp)).as("spill files are removed").isEmpty();
        }
    }

    @Test
    void aStreamedTransactionEmitsOnlyWhatItsRolledBackSavepointsDidNotUndo(@TempDir Path tmp) {
        try (CaptureFixture f = capture(tmp)) {
            // The table's first change in the transaction is in a savepoint that is rolled back: pgoutput sends the
            // table's description inside that savepoint's part of the stream, and only there.
            f.sql("BEGIN; "
                    + "SAVEPOINT a; " + insertRows(1, 20_000) + "; ROLLBACK TO SAVEPOINT a; "
                    + insertRows(20_001, 40_000) + "; "
                    + "SAVEPOINT b; " + insertRows(40_001, 60_000) + "; RELEASE SAVEPOINT b; "
                    + "SAVEPOINT c; " + insertRows(60_001, 80_000) + "; "
                    + "SAVEPOINT d; " + insertRows(80_001, 90_000) + "; ROLLBACK TO SAVEPOINT c; "
                    + "SAVEPOINT e; " + insertRows(90_001, 95_000) + "; RELEASE SAVEPOINT e; "
                    + "UPDATE big SET pad = 'updated' WHERE id BETWEEN 20001 AND 20010; "
                    + "COMMIT");
            Outcome o = read(f, tmp);
            assertThat(o.run().exitCode()).as(o.run().toString()).isZero();
            java.util.BitSet expected = new java.util.BitSet();
            expected.set(20_001, 60_001);
            expected.set(90_001, 95_001);
            assertThat(o.tally().duplicates).as("only the ten updated rows come twice").isEqualTo(10);
            assertThat(o.tally().seen).isEqualTo(expected);
            assertThat(o.tally().records).isEqualTo(expected.cardinality() + 10);
            assertStreamedOnProtocol2(f);
            assertThat(leftovers(tmp)).as("spill files are removed").isEmpty();
        }
    }

    /** On 14+ the server must really have streamed the transaction, or these tests would prove nothing there. */
    private static void assertStreamedOnProtocol2(CaptureFixture f) {
        if (server.majorVersion() < 14) {
            return;
        }
        String sql = "SELECT stream_txns FROM pg_stat_replication_slots WHERE slot_name = '" + f.slot + "'";
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        String streamed = f.scalar(sql);
        while ((streamed == null || streamed.equals("0")) && System.nanoTime() < deadline) {
            sleep(200);
            streamed = f.scalar(sql);
        }
        assertThat(streamed).as("transactions the server streamed before their end").isNotNull();
        assertThat(Long.parseLong(streamed)).as("transactions the server streamed before their end").isPositive();
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Spill directories or files the connector left in its temporary directory. */
    private static List<Path> leftovers(Path tmp) {
        try (Stream<Path> files = Files.walk(tmp)) {
            return files.filter(p -> p.getFileName().toString().startsWith("source-postgres-spill")
                    || p.getFileName().toString().endsWith(".spill")).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
