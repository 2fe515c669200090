package io.sourcepostgres.replication;

import io.sourcepostgres.airbyte.LogSink;
import io.sourcepostgres.airbyte.ConnectorException;
import io.sourcepostgres.airbyte.LogLevel;
import io.sourcepostgres.config.ConnectorConfig;
import io.sourcepostgres.postgres.ReplicationSlot;
import io.sourcepostgres.postgres.ReplicationSlots;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Creates the slot on a standby (PostgreSQL 16+). The standby needs a record of the primary's running
 * transactions to find a consistent start, and the primary writes one only every 15 s while it is busy and
 * never while it is idle, and with transactions running the standby needs two or three such records: creation
 * can wait for long. While it waits, the run says so, and how the primary's
 * {@code pg_log_standby_snapshot()} ends the wait at once. The wait itself is not bounded: the slot is created
 * exactly when the server can create it.
 */
public final class StandbySlotCreation {
    /** How long creation runs before the first line that it waits; then one line per {@link #REPEAT_SECONDS}. */
    private static final long FIRST_NOTICE_SECONDS = 5;
    private static final long REPEAT_SECONDS = 15;

    private StandbySlotCreation() {}

    static ReplicationSlot create(Connection query, ConnectorConfig config, LogSink out) throws SQLException {
        if (config.slotFailover()) {
            throw ConnectorException.config("slot_failover is on, but the server is a standby, where PostgreSQL cannot "
                    + "create a failover slot (a standby's slots are not synchronised on). Turn slot_failover off to "
                    + "capture from this standby, or connect to the primary.");
        }
        CompletableFuture<ReplicationSlot> creation = CompletableFuture.supplyAsync(() -> {
            try {
                return ReplicationSlots.createPgoutput(query, config.slotName(), false);
            } catch (SQLException e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        }, r -> {
            Thread t = new Thread(r, "standby-slot-creation");
            t.setDaemon(true);
            t.start();
        });
        long waited = 0;
        long next = FIRST_NOTICE_SECONDS;
        while (true) {
            try {
                return creation.get(next - waited, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                waited = next;
                next += REPEAT_SECONDS;
                out.log(LogLevel.INFO, "Creating replication slot \"" + config.slotName() + "\" on this standby has "
                        + "waited " + waited + " s for the primary to log its running transactions (it does every "
                        + "15 s while it writes, never while idle; with transactions running, the slot needs two or three "
                        + "such records). To end the wait sooner, run on the primary, again if it still waits: "
                        + "SELECT pg_log_standby_snapshot();");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw ConnectorException.transientError("Interrupted while creating replication slot \""
                        + config.slotName() + "\" on the standby", e);
            } catch (ExecutionException e) {
                Throwable cause = e.getCause();
                if (cause instanceof java.util.concurrent.CompletionException ce && ce.getCause() != null) {
                    cause = ce.getCause();
                }
                if (cause instanceof SQLException sql) {
                    throw sql;
                }
                if (cause instanceof RuntimeException r) {
                    throw r;
                }
                throw ConnectorException.system("Creating the replication slot failed: " + cause, cause);
            }
        }
    }
}
