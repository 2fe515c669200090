package io.sourcepostgres.failpoints;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Named places in the main code where a test can make the real process crash or fail exactly (the
 * discipline of Supabase etl's {@code failpoints.rs}). Inert unless switched on, and then only for the
 * process that was started with it: the system property {@code source_postgres.failpoints} or the
 * environment variable {@code SOURCE_POSTGRES_FAILPOINTS} holds a comma-separated list of
 * {@code name=action} or {@code name=action@N}:
 *
 * <ul>
 *   <li>{@code halt}: {@link Runtime#halt} with exit code {@value #HALT_EXIT_CODE}, as a kill would: no
 *       shutdown hook runs and whatever the output buffer still holds is lost, nothing is flushed;
 *   <li>{@code throw}: a {@link FailpointException}, which the connector reports like any bug (a
 *       {@code TRACE ERROR} of type {@code system_error});
 *   <li>{@code @N}: only from the N-th time the point is reached on (the first time by default).
 * </ul>
 *
 * Switched off (the normal case) a point costs a read of a constant, which the JIT removes.
 */
public final class Failpoints {
    /** A STATE has just been flushed to stdout, and nothing after it yet. */
    public static final String AFTER_STATE_WRITTEN = "after-state-written";
    /** Half of a backfill chunk's rows are written, the other half not. */
    public static final String MID_CHUNK_EMIT = "mid-chunk-emit";
    /** Replication has passed a chunk's high fence; the chunk's rows are not written yet. */
    public static final String BETWEEN_FENCE_AND_CHUNK_ROWS = "between-fence-and-chunk-rows";
    /** A streamed (protocol 2) transaction is being replayed: some of its changes are written, not all. */
    public static final String MID_STREAMED_TRANSACTION = "mid-streamed-transaction";
    /** The slot is about to be told the position of the state the run started from. */
    public static final String BEFORE_SLOT_CONFIRM = "before-slot-confirm";

    public static final String PROPERTY = "source_postgres.failpoints";
    public static final String ENVIRONMENT = "SOURCE_POSTGRES_FAILPOINTS";
    public static final int HALT_EXIT_CODE = 86;

    private static final Map<String, Point> POINTS = parse(configured());
    private static final boolean ACTIVE = !POINTS.isEmpty();

    private Failpoints() {
    }

    /** Whether the point {@code name} is switched on (for the rare point that must prepare before it is reached). */
    public static boolean isOn(String name) {
        return ACTIVE && POINTS.containsKey(name);
    }

    /** The program reached the point {@code name}: does what the configuration says there, usually nothing. */
    public static void hit(String name) {
        if (!ACTIVE) {
            return;
        }
        Point p = POINTS.get(name);
        if (p == null || p.hits.incrementAndGet() < p.fromHit) {
            return;
        }
        if (p.action == Action.HALT) {
            System.err.println("source-postgres: failpoint " + name + " halts the process");
            System.err.flush();
            Runtime.getRuntime().halt(HALT_EXIT_CODE);
        }
        throw new FailpointException(name);
    }

    enum Action { HALT, THROW }

    record Point(Action action, long fromHit, AtomicLong hits) {}

    private static String configured() {
        String value = System.getProperty(PROPERTY);
        return value != null ? value : System.getenv(ENVIRONMENT);
    }

    /** {@code name=halt,other=throw@3}; an unknown action fails loudly, since a test relying on it would be void. */
    static Map<String, Point> parse(String spec) {
        Map<String, Point> points = new HashMap<>();
        if (spec == null || spec.isBlank()) {
            return points;
        }
        for (String entry : spec.split(",")) {
            String e = entry.strip();
            if (e.isEmpty()) {
                continue;
            }
            int eq = e.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("Failpoint \"" + e + "\" is not name=halt or name=throw[@N]");
            }
            String name = e.substring(0, eq).strip();
            String rest = e.substring(eq + 1).strip();
            long from = 1;
            int at = rest.indexOf('@');
            if (at >= 0) {
                from = Long.parseLong(rest.substring(at + 1).strip());
                rest = rest.substring(0, at).strip();
            }
            Action action = switch (rest) {
                case "halt" -> Action.HALT;
                case "throw" -> Action.THROW;
                default -> throw new IllegalArgumentException("Failpoint " + name + ": unknown action \"" + rest
                        + "\" (halt or throw)");
            };
            points.put(name, new Point(action, from, new AtomicLong()));
        }
        return Map.copyOf(points);
    }
}
