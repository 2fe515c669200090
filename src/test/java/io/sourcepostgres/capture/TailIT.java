package io.sourcepostgres.capture;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sourcepostgres.testing.CaptureFixture;
import io.sourcepostgres.testing.Connector;
import io.sourcepostgres.testing.PostgresCluster;
import io.sourcepostgres.testing.PostgresExtension;
import io.sourcepostgres.testing.ProtocolValidator;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** With tail, read streams until stopped; SIGTERM ends it cleanly after a final STATE. */
@ExtendWith(PostgresExtension.class)
class TailIT {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    @Test
    void streamsLiveChangesUntilSigtermThenEndsWithAFinalState(PostgresCluster pg) throws Exception {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            f.sql("CREATE TABLE live (id int PRIMARY KEY, note text)");
            f.capture("public", "live");
            assertThat(f.read().exitCode()).isZero();
            f.config().put("tail", true);

            List<String> cmd = new ArrayList<>();
            cmd.add(Connector.launcher().toString());
            cmd.addAll(List.of(f.args()));
            Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            LinkedBlockingQueue<JsonNode> messages = new LinkedBlockingQueue<>();
            Thread reader = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = r.readLine()) != null) {
                        JsonNode m = MAPPER.readTree(line);
                        ProtocolValidator.assertValidMessage(m);
                        messages.add(m);
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            reader.start();

            awaitType(messages, "TRACE", "RUNNING", 60);
            for (int i = 1; i <= 5; i++) {
                f.sql("INSERT INTO live VALUES (" + i + ", 'live " + i + "')");
            }
            List<JsonNode> records = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (records.size() < 5 && System.nanoTime() < deadline) {
                JsonNode m = messages.poll(1, TimeUnit.SECONDS);
                if (m != null && m.get("type").asText().equals("RECORD")) {
                    records.add(m.get("record"));
                }
            }
            assertThat(records).extracting(r -> r.at("/data/id").asInt()).containsExactly(1, 2, 3, 4, 5);
            assertThat(p.isAlive()).as("a tailing read keeps running when caught up").isTrue();

            // SIGTERM alone: Process.destroy() would also close our end of its stdout, and the final STATE
            // would meet a closed pipe (which fails the run, as it must).
            p.toHandle().destroy();
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
            reader.join(10_000);
            assertThat(p.exitValue()).isZero();
            List<JsonNode> rest = new ArrayList<>();
            messages.drainTo(rest);
            JsonNode last = rest.stream().filter(m -> m.get("type").asText().equals("STATE")).reduce((a, b) -> b).orElseThrow();
            long finalPosition = CaptureFixture.lsn(last.at("/state/global/shared_state/position").asText());
            long lastRecordLsn = records.get(4).at("/data/_ab_cdc_lsn").asLong();
            assertThat(Long.compareUnsigned(finalPosition, lastRecordLsn)).isPositive();

            // The next run resumes after everything the tailing run emitted.
            f.config().put("tail", false);
            f.setState(last.get("state"));
            f.sql("INSERT INTO live VALUES (6, 'after')");
            assertThat(f.read().records()).extracting(r -> r.at("/data/id").asInt()).containsExactly(6);
        }
    }

    @Test
    void aReaderThatGoesAwayEndsATailingRun(PostgresCluster pg) throws Exception {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            f.sql("CREATE TABLE gone (id int PRIMARY KEY)");
            f.capture("public", "gone");
            f.config().put("tail", true);
            List<String> cmd = new ArrayList<>();
            cmd.add(Connector.launcher().toString());
            cmd.addAll(List.of(f.args()));
            Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            String line;
            while ((line = r.readLine()) != null && !line.contains("\"RUNNING\"")) {
                // until the stream runs
            }
            assertThat(line).as("the run reached RUNNING").isNotNull();
            r.close(); // the orchestrator is gone: nobody reads stdout any more
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            for (int i = 1; p.isAlive() && System.nanoTime() < deadline; i++) {
                f.sql("INSERT INTO gone VALUES (" + i + ")");
                Thread.sleep(200);
            }
            assertThat(p.waitFor(5, TimeUnit.SECONDS)).as("a tailing run whose stdout is closed must end, not stream "
                    + "into nowhere while holding its slot").isTrue();
            assertThat(p.exitValue()).isNotZero();
        }
    }

    private static void awaitType(LinkedBlockingQueue<JsonNode> messages, String type, String contains, int seconds)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            JsonNode m = messages.poll(1, TimeUnit.SECONDS);
            if (m != null && m.get("type").asText().equals(type) && m.toString().contains(contains)) {
                return;
            }
        }
        throw new AssertionError("no " + type + " containing " + contains + " within " + seconds + " s");
    }
}
