package io.sourcepostgres.capture;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sourcepostgres.testing.Connector;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One run of the real launcher ({@code bin/source-postgres}) whose stdout is read line by line as it comes,
 * as an orchestrator reads it, and which may be killed with SIGKILL at a chosen moment: a time after its
 * start, or as soon as it has printed a given number of states or records. Only complete lines count: a
 * line cut by the kill is not a message. The kill goes through the process handle, so everything the
 * connector wrote before it died is still read.
 */
final class LaunchedCapture {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    /**
     * When to kill: after {@code afterMillis}, or once {@code afterStates} states or {@code afterRecords} records
     * were read (0: no such trigger).
     */
    record KillPlan(long afterMillis, int afterStates, int afterRecords) {
        static KillPlan never(long timeoutMillis) {
            return new KillPlan(-timeoutMillis, 0, 0);
        }

        boolean kills() {
            return afterMillis >= 0;
        }

        @Override
        public String toString() {
            return !kills() ? "no kill" : afterStates > 0 ? "kill after " + afterStates + " states"
                    : afterRecords > 0 ? "kill after " + afterRecords + " records" : "kill after " + afterMillis + " ms";
        }
    }

    /**
     * What one run printed: every complete stdout line as a message, whether it was killed, its exit code,
     * and its stderr.
     */
    record Result(List<JsonNode> messages, boolean killed, int exitCode, String stderr, long millis) {
        /** The messages an orchestrator keeps: everything up to and including the last STATE. */
        List<JsonNode> kept() {
            for (int i = messages.size() - 1; i >= 0; i--) {
                if ("STATE".equals(messages.get(i).path("type").asText())) {
                    return messages.subList(0, i + 1);
                }
            }
            return List.of();
        }

        /** The TRACE ERROR messages the run printed (a killed run prints none). */
        List<JsonNode> errors() {
            return messages.stream().filter(m -> "TRACE".equals(m.path("type").asText())
                    && "ERROR".equals(m.at("/trace/type").asText())).toList();
        }

        /** Records printed after the last STATE (a run that ends by itself ends with a state). */
        long recordsAfterLastState() {
            return messages.subList(kept().size(), messages.size()).stream()
                    .filter(m -> "RECORD".equals(m.path("type").asText())).count();
        }

        /** The last STATE's state object, or null when the run emitted none. */
        JsonNode lastState() {
            List<JsonNode> kept = kept();
            return kept.isEmpty() ? null : kept.get(kept.size() - 1).get("state");
        }
    }

    private LaunchedCapture() {}

    static Result run(String[] args, KillPlan plan) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Connector.launcher().toString());
        cmd.addAll(List.of(args));
        long started = System.nanoTime();
        try {
            Path err = Files.createTempFile("torture-stderr", ".txt");
            Process p = new ProcessBuilder(cmd).redirectError(err.toFile()).start();
            p.getOutputStream().close();
            Lines lines = new Lines(p.getInputStream());
            Thread reader = new Thread(lines, "torture-stdout");
            reader.start();
            boolean killed = false;
            if (plan.kills()) {
                boolean counting = plan.afterStates() > 0 || plan.afterRecords() > 0;
                long deadline = started + TimeUnit.MILLISECONDS.toNanos(counting ? 120_000 : plan.afterMillis());
                lines.awaitCountsOrExit(p, plan.afterStates(), plan.afterRecords(), deadline);
                if (p.isAlive()) {
                    // SIGKILL through the handle: Process.destroyForcibly() would also close our end of stdout,
                    // losing what the connector wrote before it died, which an orchestrator would still read.
                    p.toHandle().destroyForcibly();
                    killed = true;
                }
            }
            if (!p.waitFor(plan.kills() ? 60_000 : -plan.afterMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                p.waitFor();
                throw new AssertionError("the connector did not finish within " + (-plan.afterMillis()) + " ms: " + cmd
                        + "\n" + Files.readString(err));
            }
            reader.join();
            if (lines.failure != null) {
                throw new AssertionError("reading the connector's stdout failed: " + lines.failure, lines.failure);
            }
            String stderr = Files.readString(err);
            Files.deleteIfExists(err);
            return new Result(lines.messages(), killed, p.exitValue(), stderr, (System.nanoTime() - started) / 1_000_000);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Reads stdout, splitting on newline; a last line without its newline (cut by the kill) is dropped. */
    private static final class Lines implements Runnable {
        private final InputStream in;
        private final List<JsonNode> messages = new ArrayList<>();
        private int states;
        private int records;
        private Throwable failure;

        Lines(InputStream in) {
            this.in = in;
        }

        @Override
        public void run() {
            byte[] buf = new byte[1 << 16];
            ByteArrayOutputStream line = new ByteArrayOutputStream(4096);
            try {
                int n;
                while ((n = in.read(buf)) > 0) {
                    int start = 0;
                    for (int i = 0; i < n; i++) {
                        if (buf[i] == '\n') {
                            line.write(buf, start, i - start);
                            accept(line.toString(StandardCharsets.UTF_8));
                            line.reset();
                            start = i + 1;
                        }
                    }
                    line.write(buf, start, n - start);
                }
            } catch (IOException | RuntimeException | AssertionError e) {
                failure = e;
            } finally {
                synchronized (this) {
                    notifyAll();
                }
            }
        }

        private void accept(String text) throws IOException {
            if (text.isEmpty()) {
                return;
            }
            JsonNode message = MAPPER.readTree(text);
            boolean state = "STATE".equals(message.path("type").asText());
            boolean record = "RECORD".equals(message.path("type").asText());
            if (!record) {
                // Records are validated in bulk by the other tests; the structure of the rest matters here.
                io.sourcepostgres.testing.ProtocolValidator.assertValidMessage(message);
            }
            synchronized (this) {
                messages.add(message);
                if (state) {
                    states++;
                    notifyAll();
                } else if (record && ++records % 16 == 0) {
                    notifyAll();
                }
            }
        }

        synchronized List<JsonNode> messages() {
            return List.copyOf(messages);
        }

        /**
         * Waits until {@code wantStates} states or {@code wantRecords} records were read (each if positive), the
         * process exits, or the deadline passes.
         */
        synchronized void awaitCountsOrExit(Process p, int wantStates, int wantRecords, long deadlineNanos)
                throws InterruptedException {
            while (p.isAlive() && (wantStates <= 0 || states < wantStates) && (wantRecords <= 0 || records < wantRecords)) {
                long left = deadlineNanos - System.nanoTime();
                if (left <= 0) {
                    return;
                }
                wait(Math.max(1, Math.min(TimeUnit.NANOSECONDS.toMillis(left), 5)));
            }
        }
    }
}
