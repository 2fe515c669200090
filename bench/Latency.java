import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Commit-to-stdout latency of the connector in tail mode. One JVM holds both ends, so both timestamps come
 * from the same monotonic clock: a writer commits single-row inserts into {@code lat} at a fixed rate
 * (open loop: a late commit does not push back the schedule of the next ones) and notes when each commit
 * was sent and when it was acknowledged; a reader takes the connector's stdout line by line and notes when the record of each row
 * arrived. The first {@code warmup} seconds of commits are left out of the figures (JIT warm-up), and are
 * reported as such.
 *
 * <pre>java -cp target/source-postgres.jar bench/Latency.java JDBC_URL RATE SECONDS WARMUP_SECONDS STDERR_FILE -- CONNECTOR_COMMAND...</pre>
 *
 * Prints one line: {@code rate=.. achieved=.. sent=.. received=.. measured=.. before_ack=.. p50_ms=.. p99_ms=.. max_ms=.. rss_mb=..}.
 */
public final class Latency {
    public static void main(String[] args) throws Exception {
        String url = args[0];
        int rate = Integer.parseInt(args[1]);
        int seconds = Integer.parseInt(args[2]);
        int warmupSeconds = Integer.parseInt(args[3]);
        Path stderrFile = Path.of(args[4]);
        List<String> command = Arrays.asList(args).subList(Arrays.asList(args).indexOf("--") + 1, args.length);

        int total = rate * seconds;
        // The commit becomes visible somewhere between sending the statement and receiving its acknowledgement;
        // latency is counted from the send (an upper bound), and records that beat the acknowledgement counted.
        long[] sent = new long[total];
        long[] acknowledged = new long[total];
        long[] arrived = new long[total];
        AtomicInteger received = new AtomicInteger();
        CountDownLatch streaming = new CountDownLatch(1);
        CountDownLatch allArrived = new CountDownLatch(1);

        Process connector = new ProcessBuilder(command)
                .redirectError(stderrFile.toFile())
                .start();
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(
                    new InputStreamReader(connector.getInputStream(), StandardCharsets.UTF_8), 1 << 16)) {
                String line;
                while ((line = in.readLine()) != null) {
                    long now = System.nanoTime();
                    if (line.startsWith("{\"type\":\"STATE\"")) {
                        streaming.countDown();
                    } else if (line.startsWith("{\"type\":\"RECORD\"") && line.contains("\"stream\":\"lat\"")) {
                        int seq = (int) idOf(line);
                        if (seq >= 0 && seq < total && arrived[seq] == 0) {
                            arrived[seq] = now;
                            if (received.incrementAndGet() == total) {
                                allArrived.countDown();
                            }
                        }
                    }
                }
            } catch (IOException e) {
                // The stream is closed when the connector is stopped at the end: nothing more to read.
            }
        }, "stdout-reader");
        reader.setDaemon(true);
        reader.start();

        if (!streaming.await(120, TimeUnit.SECONDS)) {
            connector.destroy();
            throw new IllegalStateException("the connector emitted no STATE within 120 s; see " + stderrFile);
        }

        long start;
        long end;
        try (Connection db = DriverManager.getConnection(url);
             PreparedStatement insert = db.prepareStatement("INSERT INTO lat (id) VALUES (?)")) {
            db.setAutoCommit(true);
            long period = 1_000_000_000L / rate;
            start = System.nanoTime();
            for (int i = 0; i < total; i++) {
                long due = start + i * period;
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    LockSupport.parkNanos(wait);
                }
                insert.setLong(1, i);
                sent[i] = System.nanoTime();
                insert.executeUpdate();
                acknowledged[i] = System.nanoTime();
            }
            end = System.nanoTime();
        }
        boolean complete = allArrived.await(60, TimeUnit.SECONDS);
        long rssKb = peakRssKb(connector.pid());
        connector.destroy();
        connector.waitFor(60, TimeUnit.SECONDS);

        int first = rate * warmupSeconds;
        double[] ms = new double[total - first];
        int n = 0;
        int beforeAck = 0;
        for (int i = first; i < total; i++) {
            if (arrived[i] != 0) {
                ms[n++] = (arrived[i] - sent[i]) / 1e6;
                if (arrived[i] < acknowledged[i]) {
                    beforeAck++;
                }
            }
        }
        double[] lat = Arrays.copyOf(ms, n);
        Arrays.sort(lat);
        System.out.printf(java.util.Locale.ROOT,
                "rate=%d achieved=%.0f sent=%d received=%d complete=%s measured=%d before_ack=%d p50_ms=%.1f p99_ms=%.1f max_ms=%.1f rss_mb=%.0f%n",
                rate, total / ((end - start) / 1e9), total, received.get(), complete, n, beforeAck,
                pct(lat, 0.50), pct(lat, 0.99), n == 0 ? Double.NaN : lat[n - 1], rssKb / 1024.0);
    }

    /** The value of the record's "id" field: the connector writes it as a bare JSON number. */
    private static long idOf(String line) {
        int at = line.indexOf("\"id\":");
        if (at < 0) {
            return -1;
        }
        int from = at + 5;
        int to = from;
        while (to < line.length() && Character.isDigit(line.charAt(to))) {
            to++;
        }
        return to == from ? -1 : Long.parseLong(line, from, to, 10);
    }

    private static double pct(double[] sorted, double p) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int rank = (int) Math.ceil(p * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank))];
    }

    private static long peakRssKb(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmHWM:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }
}
