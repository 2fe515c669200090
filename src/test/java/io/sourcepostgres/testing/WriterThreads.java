package io.sourcepostgres.testing;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Writer threads for tests whose behaviour depends on changes racing the connector: each thread has a connection of
 * its own (autocommit off) and runs one transaction after another until closed. A test waits for a number of commits,
 * never for a time. A transaction that fails with one of the SQLSTATEs the test expects (two writers moving rows
 * onto the same key, a deadlock, a partition that is gone) is rolled back and not counted; any other failure fails
 * the test at its next wait or at {@link #close}.
 */
public final class WriterThreads implements AutoCloseable {
    /** One transaction's statements; returns whether to commit (false: roll back). */
    @FunctionalInterface
    public interface Transaction {
        boolean run(Connection c, Random random, int thread) throws SQLException;
    }

    private final AtomicBoolean stop = new AtomicBoolean();
    private final AtomicLong committed = new AtomicLong();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final List<Thread> threads = new ArrayList<>();

    private WriterThreads() {}

    /**
     * Starts {@code count} writers in {@code database}, thread {@code i} seeded with {@code seed + i}, pausing
     * {@code pauseMillis} after each transaction (0: none) so that a connector sharing a loaded machine can keep up.
     */
    public static WriterThreads start(PostgresCluster pg, String database, int count, long seed, long pauseMillis,
            Set<String> expectedFailures, Transaction transaction) {
        WriterThreads w = new WriterThreads();
        for (int i = 0; i < count; i++) {
            int thread = i;
            Random random = new Random(seed + i);
            Thread t = new Thread(() -> w.loop(pg, database, random, thread, pauseMillis, expectedFailures, transaction),
                    "writer-" + i);
            t.setDaemon(true);
            w.threads.add(t);
            t.start();
        }
        return w;
    }

    private void loop(PostgresCluster pg, String database, Random random, int thread, long pauseMillis,
            Set<String> expectedFailures, Transaction transaction) {
        try (Connection c = pg.connect(database)) {
            c.setAutoCommit(false);
            while (!stop.get()) {
                try {
                    if (transaction.run(c, random, thread)) {
                        c.commit();
                        committed.incrementAndGet();
                    } else {
                        c.rollback();
                    }
                } catch (SQLException e) {
                    if (!expectedFailures.contains(e.getSQLState())) {
                        throw e;
                    }
                    c.rollback();
                }
                if (pauseMillis > 0) {
                    Thread.sleep(pauseMillis);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Throwable e) {
            failure.compareAndSet(null, e);
        }
    }

    /** The transactions committed so far. */
    public long committed() {
        return committed.get();
    }

    /** Waits until {@code more} transactions beyond now have committed; fails at once if a writer failed. */
    public void awaitMore(long more) {
        long target = committed.get() + more;
        Await.until(more + " more writer commits", Duration.ofMinutes(3), () -> committed.get() >= target
                || failure.get() != null);
        check();
    }

    private void check() {
        if (failure.get() != null) {
            throw new AssertionError("a writer failed", failure.get());
        }
    }

    /** Stops the writers and waits for them; fails if one of them failed. Idempotent. */
    @Override
    public void close() {
        stop.set(true);
        for (Thread t : threads) {
            try {
                t.join(60_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        check();
    }
}
