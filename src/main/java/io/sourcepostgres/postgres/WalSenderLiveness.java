package io.sourcepostgres.postgres;

import io.sourcepostgres.airbyte.ConnectorException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Notices a replication connection that has gone silent for good, so that a run fails (transient) instead
 * of waiting forever for a server it can no longer hear.
 *
 * <p>A silent stream alone proves nothing: an idle server sends a keepalive only every
 * {@code wal_sender_timeout / 2}, and a walsender decoding a huge transaction whose changes are not
 * published may send nothing for minutes (before PostgreSQL 15 it does not even read our status updates
 * meanwhile). So silence only triggers a question to the server, on the query connection and bounded by
 * a short socket timeout: is our walsender (the backend of our replication connection) still the one
 * holding the slot? The session is declared dead when
 * <ul>
 *   <li>the question gets no answer in time — the path to the server is down (a partition or a stall
 *       usually takes both connections), or</li>
 *   <li>the slot is no longer held by our walsender — the server ended the session (an administrator, a
 *       crash, or its {@code wal_sender_timeout} after hearing no status update from us: a path stalled
 *       only for the replication connection is caught this way), while our end never saw it close.</li>
 * </ul>
 * An answer saying our walsender holds the slot restarts the silence clock: a busy server is never
 * mistaken for a dead one.
 */
public final class WalSenderLiveness {
    private final Connection query;
    private final String slot;
    private final int walSenderPid;
    private final LongSupplier progress;
    private final long silenceNanos;
    private final Duration probeTimeout;
    private final Consumer<String> debugLog;
    private long lastProgress;
    private long lastChange;

    /**
     * @param progress a value that changes whenever the stream delivers something (its last received LSN)
     * @param silence how long the stream may deliver nothing before the server is asked
     * @param probeTimeout how long the server has to answer
     * @param debugLog told each time the server confirmed that the silent stream is alive
     */
    public WalSenderLiveness(Connection query, String slot, int walSenderPid, LongSupplier progress, Duration silence,
            Duration probeTimeout, Consumer<String> debugLog) {
        this.debugLog = debugLog;
        this.query = query;
        this.slot = slot;
        this.walSenderPid = walSenderPid;
        this.progress = progress;
        this.silenceNanos = silence.toNanos();
        this.probeTimeout = probeTimeout;
        this.lastProgress = progress.getAsLong();
        this.lastChange = System.nanoTime();
    }

    /** The silence before asking: three status intervals, and never less than five seconds. */
    public static Duration silenceFor(Duration statusInterval) {
        Duration d = statusInterval.multipliedBy(3);
        return d.compareTo(Duration.ofSeconds(5)) < 0 ? Duration.ofSeconds(5) : d;
    }

    /** How long the server has to answer the question. */
    public static Duration probeTimeoutFor(Duration statusInterval) {
        return statusInterval.compareTo(Duration.ofSeconds(10)) < 0 ? Duration.ofSeconds(10) : statusInterval;
    }

    /** Cheap unless the stream has been silent for the whole silence interval; throws once the session is dead. */
    public void check() {
        long now = System.nanoTime();
        long p = progress.getAsLong();
        if (p != lastProgress) {
            lastProgress = p;
            lastChange = now;
            return;
        }
        if (now - lastChange < silenceNanos) {
            return;
        }
        probe();
        lastChange = System.nanoTime();
    }

    private void probe() {
        Integer activePid;
        boolean slotExists;
        try {
            int previous = query.getNetworkTimeout();
            QueryNetworkTimeout.apply(query, probeTimeout);
            try (PreparedStatement ps = query.prepareStatement(
                    "SELECT active_pid FROM pg_catalog.pg_replication_slots WHERE slot_name = ?")) {
                ps.setString(1, slot);
                try (ResultSet rs = ps.executeQuery()) {
                    slotExists = rs.next();
                    activePid = slotExists ? (Integer) rs.getObject(1) : null;
                }
            } finally {
                QueryNetworkTimeout.apply(query, Duration.ofMillis(previous));
            }
        } catch (SQLException e) {
            throw ConnectorException.transientError("The replication stream has been silent for "
                    + seconds(silenceNanos) + " s and the server did not answer a liveness query within "
                    + probeTimeout.toSeconds() + " s (" + e.getMessage() + "): the network path to the server is "
                    + "down or stalled. Check connectivity (firewalls, proxies, load balancers that drop idle "
                    + "connections); the next run resumes from the last emitted state.", e);
        }
        if (!slotExists) {
            throw ConnectorException.transientError("The replication stream has been silent for " + seconds(silenceNanos)
                    + " s and replication slot \"" + slot + "\" no longer exists on the server. Someone dropped it "
                    + "while the run was streaming; the next run reports how to recover.", null);
        }
        if (activePid == null || activePid != walSenderPid) {
            throw ConnectorException.transientError("The replication stream has been silent for " + seconds(silenceNanos)
                    + " s and the server's walsender for slot \"" + slot + "\" (pid " + walSenderPid + ") is gone"
                    + (activePid == null ? "" : " (pid " + activePid + " holds the slot now)") + ": the server ended "
                    + "the session without this end noticing — typically its wal_sender_timeout after status updates "
                    + "stopped arriving through a stalled network path. The next run resumes from the last emitted state.", null);
        }
        debugLog.accept("The replication stream has been silent for " + seconds(silenceNanos) + " s; the server says its "
                + "walsender (pid " + walSenderPid + ") still holds slot \"" + slot + "\"");
    }

    private static long seconds(long nanos) {
        return Math.round(nanos / 1e9);
    }
}
