package io.sourcepostgres.testing;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * The one way tests wait: poll a condition until it holds, failing the test once {@code timeout} has
 * passed. The timeout is a deadline against hangs, never a measure of speed: tests wait for conditions,
 * not for time.
 */
public final class Await {
    private static final long POLL_MILLIS = 20;

    private Await() {}

    /** Polls {@code condition} every 20 ms until it holds; fails naming {@code what} after {@code timeout}. */
    public static void until(String what, Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("timed out after " + timeout.toSeconds() + " s waiting for " + what);
            }
            try {
                Thread.sleep(POLL_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted waiting for " + what, e);
            }
        }
    }
}
