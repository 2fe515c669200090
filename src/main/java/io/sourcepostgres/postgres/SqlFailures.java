package io.sourcepostgres.postgres;

import io.sourcepostgres.airbyte.ConnectorException;
import io.sourcepostgres.airbyte.FailureType;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.sql.SQLException;

/**
 * The one place where a failed SQL statement becomes a failure type: by its SQLSTATE class, or by the
 * driver's own cause when the server could not say anything (connection lost, socket timeout). Call sites
 * say what failed and, where they know better than {@link Cause#advice()}, how to fix it; they never decide
 * who must act.
 */
public final class SqlFailures {
    private SqlFailures() {}

    /** Why a statement failed, as far as the connector can act on it, and who must act. */
    public enum Cause {
        /** Class 08, or an I/O failure below the driver: the connection is gone. */
        CONNECTION_LOST(FailureType.TRANSIENT_ERROR, "The connection to the server was lost; retry (the next run "
                + "resumes from the last emitted state)."),
        /** 57014, or a socket timeout: the statement timed out or was cancelled. */
        TIMED_OUT(FailureType.TRANSIENT_ERROR, "The statement timed out or was cancelled; retry, or raise "
                + "statement_timeout_seconds."),
        /** Class 40: serialization failure, deadlock: the same statement succeeds on another try. */
        CONFLICT(FailureType.TRANSIENT_ERROR, "It conflicted with a concurrent transaction; retry."),
        /** Class 53 but 53400: out of connections, memory or disk, for now. */
        SERVER_BUSY(FailureType.TRANSIENT_ERROR, "The server is short of resources (connections, memory or disk); "
                + "retry later, or raise the limit named above."),
        /** 57P01, 57P02, 57P03: the server is shutting down, crashed, or is starting up. */
        SERVER_RESTARTING(FailureType.TRANSIENT_ERROR, "The server is shutting down or restarting; retry once it is "
                + "back (the next run resumes from the last emitted state)."),
        /** 42P01, 42703: a table or column went away under a running read (concurrent DDL). */
        OBJECT_CHANGED(FailureType.TRANSIENT_ERROR, "A table changed while it was being read (dropped or altered); "
                + "the next run reads it anew."),
        /**
         * 55006, 42710: a slot (or another object) is held, or was just created, by another process; someone
         * must stop that process, or give this capture objects of its own.
         */
        OBJECT_IN_USE(FailureType.CONFIG_ERROR, "Another process holds it: stop that process (see "
                + "pg_stat_activity, or active_pid in pg_replication_slots), or give this capture its own slot_name."),
        /** 42501 and class 28, 3D000: the role may not do this, may not log in, or the database is not there. */
        NOT_PERMITTED(FailureType.CONFIG_ERROR, "Grant the connector's user the privilege named above, or check "
                + "the user and database in the configuration."),
        /** 42704: a slot, publication or type the configuration names does not exist. */
        MISSING_OBJECT(FailureType.CONFIG_ERROR, "Create it, or fix its name in the configuration."),
        /**
         * 55000, 53400, 57P04, 0A000, 25006: the server's settings or state forbid it (wal_level, slot limits,
         * a dropped database, a feature this server lacks, a read-only standby).
         */
        SERVER_SETTING(FailureType.CONFIG_ERROR, "Change the server setting named above (postgresql.conf, then "
                + "reload or restart) or connect to a server that allows it."),
        /** Anything else: the connector did not expect it. */
        UNEXPECTED(FailureType.SYSTEM_ERROR, "This is unexpected: please report it with the message above.");

        private final FailureType failureType;
        private final String advice;

        Cause(FailureType failureType, String advice) {
            this.failureType = failureType;
            this.advice = advice;
        }

        public FailureType failureType() {
            return failureType;
        }

        /** What to do, when the call site has nothing more specific to say. */
        public String advice() {
            return advice;
        }
    }

    /** Why {@code e} happened. */
    public static Cause causeOf(SQLException e) {
        String state = e.getSQLState() == null ? "" : e.getSQLState();
        if (state.startsWith("08")) {
            return Cause.CONNECTION_LOST;
        }
        switch (state) {
            case "57014":
                return Cause.TIMED_OUT;
            case "57P01", "57P02", "57P03":
                return Cause.SERVER_RESTARTING;
            case "57P04", "55000", "53400", "0A000", "25006":
                return Cause.SERVER_SETTING;
            case "55006", "42710":
                return Cause.OBJECT_IN_USE;
            case "42501", "3D000":
                return Cause.NOT_PERMITTED;
            case "42704":
                return Cause.MISSING_OBJECT;
            case "42P01", "42703":
                return Cause.OBJECT_CHANGED;
            default:
                break;
        }
        if (state.startsWith("40")) {
            return Cause.CONFLICT;
        }
        if (state.startsWith("53")) {
            return Cause.SERVER_BUSY;
        }
        if (state.startsWith("28")) {
            return Cause.NOT_PERMITTED;
        }
        // No SQLSTATE from the server: what the driver saw below it.
        for (Throwable t = e.getCause(); t != null && t != t.getCause(); t = t.getCause()) {
            if (t instanceof SocketTimeoutException) {
                return Cause.TIMED_OUT;
            }
            if (t instanceof IOException) {
                return Cause.CONNECTION_LOST;
            }
        }
        return Cause.UNEXPECTED;
    }

    public static FailureType typeOf(SQLException e) {
        return causeOf(e).failureType();
    }

    /**
     * {@code "<what> failed: <server message>. <fix>"} with the failure type of {@code e}.
     *
     * @param what what the connector was doing ("Reading a backfill chunk of table public.t")
     * @param fix how to fix it, or null for the cause's own {@link Cause#advice()}
     */
    public static ConnectorException failure(String what, SQLException e, String fix) {
        Cause cause = causeOf(e);
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return new ConnectorException(cause.failureType(), what + " failed: " + message + ". "
                + (fix != null ? fix : cause.advice()), e);
    }

    /**
     * A failure whose whole message the call site wrote (it names the problem and the fix), with the failure
     * type of {@code e}.
     */
    public static ConnectorException explained(String message, SQLException e) {
        return new ConnectorException(typeOf(e), message, e);
    }

    /** As {@link #failure(String, SQLException, String)} with the cause's own advice. */
    public static ConnectorException failure(String what, SQLException e) {
        return failure(what, e, null);
    }
}
