package io.sourcepostgres.capture;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Lets SIGTERM end a streaming run cleanly: the JVM's shutdown hook asks the capture to stop, and waits
 * (bounded) until the capture has written its final STATE.
 */
public final class ShutdownSignal {
    private volatile boolean requested;
    private final CountDownLatch finished = new CountDownLatch(1);

    public boolean requested() {
        return requested;
    }

    public void request() {
        requested = true;
    }

    private volatile boolean cleanExit;

    /** The capture is done; {@code clean} when it ended with a final STATE. */
    public void finished(boolean clean) {
        cleanExit = clean;
        finished.countDown();
    }

    public boolean awaitFinished(long seconds) throws InterruptedException {
        return finished.await(seconds, TimeUnit.SECONDS);
    }

    /** Installs a shutdown hook that requests a stop and waits up to {@code seconds} for {@link #finished}. */
    public static ShutdownSignal install(long seconds) {
        ShutdownSignal signal = new ShutdownSignal();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            signal.request();
            try {
                if (signal.awaitFinished(seconds) && signal.cleanExit) {
                    // The final STATE is written and flushed: a stop on request is a success.
                    Runtime.getRuntime().halt(0);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "shutdown-signal"));
        return signal;
    }
}
