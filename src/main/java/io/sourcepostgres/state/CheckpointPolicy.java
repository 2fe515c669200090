package io.sourcepostgres.state;

import java.time.Duration;

/**
 * When a STATE is due. Every {@code GLOBAL} state lists every stream, so with thousands of streams one state
 * weighs hundreds of kilobytes; a state per commit would then be nearly all of the output. The policy:
 *
 * <ul>
 *   <li><b>Small state</b> (at most {@link #SMALL_STATE_BYTES} encoded, a few dozen streams): the seed's
 *       behaviour, a state after every commit, every backfill chunk and every change of position.
 *   <li><b>Large state</b>: a state once the output written since the last one reaches
 *       {@link #RECORD_BYTES_PER_STATE_BYTE} times the state's size (so states stay under 2.5 % of a busy
 *       output, 5 % with the run's last state), or once {@link #interval} has passed since the last one (1 s
 *       to 4 s, longer for larger states), whichever comes first. Only news counts: records, or a stream's backfill progress. A moved
 *       position alone (keepalives of an idle server, commits of tables not captured) waits
 *       {@link #POSITION_ONLY_NANOS}: it only lets the next run free WAL sooner.
 *   <li><b>Configured interval</b> ({@code checkpoint_interval_ms} &gt; 0): at most one state per interval,
 *       whatever the state's size.
 * </ul>
 *
 * The capture asks at every transaction boundary (after each commit, each emitted chunk, and on each idle
 * turn of the stream), so a due state is never later than the next boundary; the run's last state is
 * emitted regardless ({@link Checkpoints#emitFinal}).
 */
public final class CheckpointPolicy {
    /** Up to this size a state after every commit costs about as much as the commit's record: the seed's cadence. */
    static final long SMALL_STATE_BYTES = 4096;
    /**
     * 39 bytes of other output per byte of state: the states of a busy capture are at most 2.5 % of its output,
     * which leaves room for the run's last state within 5 % once a phase has written 40 states' worth.
     */
    public static final long RECORD_BYTES_PER_STATE_BYTE = 39;
    static final long MIN_INTERVAL_NANOS = 1_000_000_000L;
    /**
     * The longest gap between two states while records flow: 4 s, so that with the wait for the next
     * transaction boundary a state still comes at least every 5 s.
     */
    static final long MAX_INTERVAL_NANOS = 4_000_000_000L;
    /** State bytes per second a quiet capture may write: an 800 KB state (10,000 streams) every 4 s. */
    static final long STATE_BYTES_PER_SECOND = 200 * 1024;
    static final long POSITION_ONLY_NANOS = 60_000_000_000L;

    private final long configuredNanos;

    CheckpointPolicy(Duration configured) {
        this.configuredNanos = configured.toNanos();
    }

    /** The shortest gap between two large states that carry news. */
    static long interval(long stateBytes) {
        long nanos = stateBytes * 1_000_000_000L / STATE_BYTES_PER_SECOND;
        return Math.max(MIN_INTERVAL_NANOS, Math.min(MAX_INTERVAL_NANOS, nanos));
    }

    /**
     * Whether a state is due now, at a transaction boundary.
     *
     * @param stateBytes the state's encoded size (or an estimate of it)
     * @param bytesSince bytes written to stdout since the last state
     * @param news whether records or backfill progress came since the last state (else only the position moved)
     * @param nanosSince time since the last state
     */
    boolean due(long stateBytes, long bytesSince, boolean news, long nanosSince) {
        if (configuredNanos > 0) {
            return nanosSince >= configuredNanos;
        }
        if (stateBytes <= SMALL_STATE_BYTES) {
            return true;
        }
        if (!news) {
            return nanosSince >= POSITION_ONLY_NANOS;
        }
        return bytesSince >= RECORD_BYTES_PER_STATE_BYTE * stateBytes || nanosSince >= interval(stateBytes);
    }
}
