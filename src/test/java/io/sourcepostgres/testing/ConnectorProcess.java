package io.sourcepostgres.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * The real launcher running as a process, watched while it runs: its stdout is read line by line as it
 * comes (so a test can react to messages, or count a gigabyte of records without holding them), its
 * peak resident memory is sampled from {@code /proc/<pid>/status}, and every wait is bounded, so a
 * connector that hangs fails the test instead of hanging the build.
 *
 * <p>By default every stdout line is validated as an Airbyte message and kept; a {@link Builder#onLine}
 * consumer takes over instead (for output too large to keep).
 */
public final class ConnectorProcess implements AutoCloseable {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final long SAMPLE_MILLIS = 50;

    private final Process process;
    private final Path stderrFile;
    private final Thread reader;
    private final Thread sampler;
    private final List<JsonNode> messages = new ArrayList<>();
    private volatile Throwable readFailure;
    private volatile long peakRssKb;

    private ConnectorProcess(Process process, Path stderrFile, Consumer<String> lineSink) {
        this.process = process;
        this.stderrFile = stderrFile;
        Consumer<String> sink = lineSink != null ? lineSink : this::keep;
        this.reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8),
                    1 << 16)) {
                String line;
                while ((line = r.readLine()) != null) {
                    if (!line.isEmpty()) {
                        sink.accept(line);
                    }
                }
            } catch (Throwable e) {
                readFailure = e;
                process.destroyForcibly();
            }
        }, "connector-stdout-" + process.pid());
        this.sampler = new Thread(this::sampleMemory, "connector-rss-" + process.pid());
        reader.setDaemon(true);
        sampler.setDaemon(true);
        reader.start();
        sampler.start();
    }

    public static Builder builder(String... args) {
        return new Builder(args);
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** The largest VmHWM (peak resident set, kB) seen while the process ran. */
    public long peakRssKb() {
        return peakRssKb;
    }

    /**
     * Sends SIGTERM (what an orchestrator does to stop a tailing read). Through kill(1): Process.destroy
     * would also close our end of the process's stdout, losing the final messages the test wants to see.
     */
    public void terminate() {
        try {
            Process kill = new ProcessBuilder("kill", "-TERM", Long.toString(process.pid())).inheritIO().start();
            if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
                throw new IllegalStateException("kill -TERM " + process.pid() + " failed");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The messages kept so far (default line handling only). */
    public List<JsonNode> messages() {
        synchronized (messages) {
            return List.copyOf(messages);
        }
    }

    /** Waits until a kept message matches, or fails after {@code timeout} (also when the process ends first). */
    public JsonNode await(Predicate<JsonNode> condition, Duration timeout, String what) {
        return awaitCount(condition, 1, timeout, what);
    }

    /**
     * Waits until {@code count} kept messages match and returns the last of them; fails after {@code timeout}
     * (also when the process ends first).
     */
    public JsonNode awaitCount(Predicate<JsonNode> condition, int count, Duration timeout, String what) {
        long deadline = System.nanoTime() + timeout.toNanos();
        int seen = 0;
        int matched = 0;
        synchronized (messages) {
            while (true) {
                for (; seen < messages.size(); seen++) {
                    if (condition.test(messages.get(seen)) && ++matched == count) {
                        return messages.get(seen);
                    }
                }
                long left = deadline - System.nanoTime();
                if (left <= 0 || (!process.isAlive() && !reader.isAlive())) {
                    throw new AssertionError("connector printed " + matched + " of " + count + " " + what + " within "
                            + timeout + describe());
                }
                try {
                    messages.wait(Math.max(1, Math.min(TimeUnit.NANOSECONDS.toMillis(left), 200)));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                }
            }
        }
    }

    /** Waits for the process to exit and its stdout to be read; kills it and fails after {@code timeout}. */
    public ConnectorRun finish(Duration timeout) {
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                String state = describe();
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                throw new AssertionError("connector did not exit within " + timeout + " (killed it)" + state);
            }
            reader.join(TimeUnit.SECONDS.toMillis(60));
            sampler.join(1000);
            if (readFailure != null) {
                throw new AssertionError("reading the connector's stdout failed" + describe(), readFailure);
            }
            List<JsonNode> kept = messages();
            StringBuilder text = new StringBuilder();
            for (JsonNode m : kept) {
                text.append(m).append('\n');
            }
            return new ConnectorRun(process.exitValue(), kept, text.toString(), stderr());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public String stderr() {
        try {
            return Files.exists(stderrFile) ? Files.readString(stderrFile) : "";
        } catch (IOException e) {
            return "(stderr unreadable: " + e + ")";
        }
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        try {
            Files.deleteIfExists(stderrFile);
        } catch (IOException ignored) {
            // a temp file
        }
    }

    private void keep(String line) {
        JsonNode node;
        try {
            node = MAPPER.readTree(line);
        } catch (IOException e) {
            throw new AssertionError("stdout line is not JSON: " + line, e);
        }
        ProtocolValidator.assertValidMessage(node);
        synchronized (messages) {
            messages.add(node);
            messages.notifyAll();
        }
    }

    private void sampleMemory() {
        Path status = Path.of("/proc", String.valueOf(process.pid()), "status");
        while (process.isAlive()) {
            try {
                for (String line : Files.readAllLines(status)) {
                    if (line.startsWith("VmHWM:")) {
                        long kb = Long.parseLong(line.replaceAll("[^0-9]", ""));
                        peakRssKb = Math.max(peakRssKb, kb);
                    }
                }
                Thread.sleep(SAMPLE_MILLIS);
            } catch (IOException | RuntimeException e) {
                return; // the process is gone
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private String describe() {
        List<JsonNode> kept = messages();
        StringBuilder sb = new StringBuilder("\nlast messages:\n");
        for (JsonNode m : kept.subList(Math.max(0, kept.size() - 10), kept.size())) {
            String s = m.toString();
            sb.append("  ").append(s, 0, Math.min(400, s.length())).append('\n');
        }
        String err = stderr();
        sb.append("stderr:\n").append(err.length() > 4000 ? err.substring(err.length() - 4000) : err);
        return sb.toString();
    }

    /** How to start the launcher: arguments, extra environment, and what to do with each stdout line. */
    public static final class Builder {
        private final String[] args;
        private final Map<String, String> env = new java.util.HashMap<>();
        private Consumer<String> lineSink;

        private Builder(String[] args) {
            this.args = args;
        }

        public Builder env(String name, String value) {
            env.put(name, value);
            return this;
        }

        /** Hands each stdout line to {@code sink} (on the reader thread) instead of keeping it. */
        public Builder onLine(Consumer<String> sink) {
            this.lineSink = sink;
            return this;
        }

        public ConnectorProcess start() {
            List<String> cmd = new ArrayList<>();
            cmd.add(Connector.launcher().toString());
            cmd.addAll(List.of(args));
            try {
                Path err = Files.createTempFile("connector-stderr", ".txt");
                ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(err.toFile());
                pb.environment().putAll(env);
                Process p = pb.start();
                p.getOutputStream().close();
                return new ConnectorProcess(p, err, lineSink);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
