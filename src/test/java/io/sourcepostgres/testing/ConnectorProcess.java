package io.sourcepostgres.testing;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * The one way tests run the real launcher as a process: its stdout is read line by line as it comes (so a
 * test can react to messages, or count a gigabyte of records without holding them), its peak resident
 * memory is sampled from {@code /proc/<pid>/status}, it can be stopped with SIGTERM or SIGKILL at a chosen
 * moment, and every wait is bounded, so a connector that hangs fails the test instead of hanging the build.
 *
 * <p>By default every stdout line is validated as an Airbyte message and kept; a {@link Builder#onLine}
 * consumer takes over instead (for output too large to keep). A last line cut by {@link #kill} is no
 * message and is dropped, as an orchestrator drops it.
 */
public final class ConnectorProcess implements AutoCloseable {
    private static final long SAMPLE_MILLIS = 50;

    private final Process process;
    private final Path stderrFile;
    private final Thread reader;
    private final Thread sampler;
    private final List<JsonNode> messages = new ArrayList<>();
    private final StringBuilder stdout = new StringBuilder();
    private final boolean validateRecords;
    private volatile Throwable readFailure;
    private volatile long peakRssKb;
    private volatile boolean killed;
    private volatile boolean stdoutClosed;

    private ConnectorProcess(Process process, Path stderrFile, Consumer<String> lineSink, boolean validateRecords) {
        this.process = process;
        this.stderrFile = stderrFile;
        this.validateRecords = validateRecords;
        Consumer<String> sink = lineSink != null ? lineSink : this::keep;
        this.reader = new Thread(() -> readLines(sink), "connector-stdout-" + process.pid());
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

    /** Whether {@link #kill} ended the process. */
    public boolean killed() {
        return killed;
    }

    /**
     * SIGKILL, like a crash of the machine or the orchestrator's kill. Through the process handle:
     * Process.destroyForcibly() would also close our end of stdout, losing what the connector wrote before
     * it died, which an orchestrator would still read. Does nothing when the process has already ended.
     */
    public void kill() {
        if (process.isAlive()) {
            killed = true;
            process.toHandle().destroyForcibly();
        }
    }

    /** Closes our end of the process's stdout, as an orchestrator that went away does; nothing is read after. */
    public void closeStdout() {
        stdoutClosed = true;
        try {
            process.getInputStream().close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
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
        JsonNode found = awaitCountOrEnd(condition, count, System.nanoTime() + timeout.toNanos());
        if (found == null) {
            throw new AssertionError("connector printed fewer than " + count + " " + what + " within " + timeout
                    + describe());
        }
        return found;
    }

    /**
     * Waits until {@code count} kept messages match and returns the last of them; null once the process has
     * ended and its output is read, or {@code deadlineNanos} (of {@link System#nanoTime}) has passed, first.
     */
    public JsonNode awaitCountOrEnd(Predicate<JsonNode> condition, int count, long deadlineNanos) {
        int seen = 0;
        int matched = 0;
        synchronized (messages) {
            while (true) {
                for (; seen < messages.size(); seen++) {
                    if (condition.test(messages.get(seen)) && ++matched == count) {
                        return messages.get(seen);
                    }
                }
                long left = deadlineNanos - System.nanoTime();
                if (left <= 0 || (!process.isAlive() && !reader.isAlive())) {
                    return null;
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
            String text;
            synchronized (messages) {
                text = stdout.toString();
            }
            return new ConnectorRun(process.exitValue(), messages(), text, stderr());
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

    /**
     * Splits stdout on newlines and hands each line on. A last line without its newline is handed on too,
     * unless {@link #kill} cut it: then it is no message.
     */
    private void readLines(Consumer<String> sink) {
        try (InputStream in = process.getInputStream()) {
            byte[] buf = new byte[1 << 16];
            ByteArrayOutputStream line = new ByteArrayOutputStream(4096);
            int n;
            while ((n = in.read(buf)) > 0) {
                int start = 0;
                for (int i = 0; i < n; i++) {
                    if (buf[i] == '\n') {
                        line.write(buf, start, i - start);
                        hand(sink, line);
                        start = i + 1;
                    }
                }
                line.write(buf, start, n - start);
            }
            if (line.size() > 0 && !killed) {
                hand(sink, line);
            }
        } catch (Throwable e) {
            if (stdoutClosed && e instanceof IOException) {
                return; // closeStdout: the test stopped reading on purpose
            }
            readFailure = e;
            process.destroyForcibly();
        } finally {
            synchronized (messages) {
                messages.notifyAll();
            }
        }
    }

    private static void hand(Consumer<String> sink, ByteArrayOutputStream line) {
        String text = line.toString(StandardCharsets.UTF_8);
        line.reset();
        if (!text.isEmpty()) {
            sink.accept(text);
        }
    }

    private void keep(String line) {
        JsonNode node = Connector.json(line);
        if (validateRecords || !"RECORD".equals(node.path("type").asText())) {
            ProtocolValidator.assertValidMessage(node);
        }
        synchronized (messages) {
            messages.add(node);
            stdout.append(line).append('\n');
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

    /**
     * How to start the launcher: which launcher, where, arguments, environment, and what to do with each
     * stdout line.
     */
    public static final class Builder {
        private final String[] args;
        private final Map<String, String> env = new HashMap<>();
        private Path launcher = Connector.launcher();
        private Path directory;
        private boolean onlyEnvironment;
        private boolean validateRecords = true;
        private Consumer<String> lineSink;

        private Builder(String[] args) {
            this.args = args;
        }

        public Builder env(String name, String value) {
            env.put(name, value);
            return this;
        }

        public Builder env(Map<String, String> variables) {
            env.putAll(variables);
            return this;
        }

        /** Another launcher than the build's {@code bin/source-postgres} (an unpacked distribution, a wrapper). */
        public Builder launcher(Path path) {
            this.launcher = path;
            return this;
        }

        /** The process's working directory; by default this JVM's. */
        public Builder directory(Path dir) {
            this.directory = dir;
            return this;
        }

        /** The process sees the {@link #env} variables and nothing else of this JVM's environment. */
        public Builder onlyEnvironment() {
            this.onlyEnvironment = true;
            return this;
        }

        /**
         * RECORD messages are kept but not validated against the protocol schema (the other messages still
         * are): for runs whose records are too many to validate one by one, and are validated by other tests.
         */
        public Builder unvalidatedRecords() {
            this.validateRecords = false;
            return this;
        }

        /** Hands each stdout line to {@code sink} (on the reader thread) instead of keeping it. */
        public Builder onLine(Consumer<String> sink) {
            this.lineSink = sink;
            return this;
        }

        public ConnectorProcess start() {
            List<String> cmd = new ArrayList<>();
            cmd.add(launcher.toString());
            cmd.addAll(List.of(args));
            try {
                Path err = Files.createTempFile("connector-stderr", ".txt");
                ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(err.toFile());
                if (directory != null) {
                    pb.directory(directory.toFile());
                }
                if (onlyEnvironment) {
                    pb.environment().clear();
                }
                pb.environment().putAll(env);
                if (!onlyEnvironment) {
                    // The launcher's class-data-sharing archives of the build's jar belong with the build, not in
                    // the developer's ~/.cache ('mvn clean' removes them).
                    pb.environment().putIfAbsent("SOURCE_POSTGRES_CDS_DIR",
                            PostgresCluster.projectDir().resolve("target/cds").toString());
                }
                Process p = pb.start();
                p.getOutputStream().close();
                return new ConnectorProcess(p, err, lineSink, validateRecords);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
