package io.sourcepostgres.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.sourcepostgres.airbyte.ConnectorException;
import io.sourcepostgres.airbyte.FailureType;
import java.io.EOFException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.sql.SQLException;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/** The one classifier: SQLSTATE (or the driver's cause when there is none) to cause and failure type. */
class SqlFailuresTest {

    static Stream<Arguments> states() {
        return Stream.of(
                // connection loss: class 08
                Arguments.of("08006", SqlFailures.Cause.CONNECTION_LOST, FailureType.TRANSIENT_ERROR),
                Arguments.of("08001", SqlFailures.Cause.CONNECTION_LOST, FailureType.TRANSIENT_ERROR),
                Arguments.of("08P01", SqlFailures.Cause.CONNECTION_LOST, FailureType.TRANSIENT_ERROR),
                // statement timeout or cancel
                Arguments.of("57014", SqlFailures.Cause.TIMED_OUT, FailureType.TRANSIENT_ERROR),
                // class 40: serialization failure, deadlock
                Arguments.of("40001", SqlFailures.Cause.CONFLICT, FailureType.TRANSIENT_ERROR),
                Arguments.of("40P01", SqlFailures.Cause.CONFLICT, FailureType.TRANSIENT_ERROR),
                // class 53: resources, but a configured limit is the user's to raise
                Arguments.of("53300", SqlFailures.Cause.SERVER_BUSY, FailureType.TRANSIENT_ERROR),
                Arguments.of("53200", SqlFailures.Cause.SERVER_BUSY, FailureType.TRANSIENT_ERROR),
                Arguments.of("53100", SqlFailures.Cause.SERVER_BUSY, FailureType.TRANSIENT_ERROR),
                Arguments.of("53400", SqlFailures.Cause.SERVER_SETTING, FailureType.CONFIG_ERROR),
                // class 57P: operator intervention
                Arguments.of("57P01", SqlFailures.Cause.SERVER_RESTARTING, FailureType.TRANSIENT_ERROR),
                Arguments.of("57P02", SqlFailures.Cause.SERVER_RESTARTING, FailureType.TRANSIENT_ERROR),
                Arguments.of("57P03", SqlFailures.Cause.SERVER_RESTARTING, FailureType.TRANSIENT_ERROR),
                Arguments.of("57P04", SqlFailures.Cause.SERVER_SETTING, FailureType.CONFIG_ERROR),
                // object in use (a slot held by another process), or created by one meanwhile
                Arguments.of("55006", SqlFailures.Cause.OBJECT_IN_USE, FailureType.CONFIG_ERROR),
                Arguments.of("42710", SqlFailures.Cause.OBJECT_IN_USE, FailureType.CONFIG_ERROR),
                // privileges, login, database
                Arguments.of("42501", SqlFailures.Cause.NOT_PERMITTED, FailureType.CONFIG_ERROR),
                Arguments.of("28P01", SqlFailures.Cause.NOT_PERMITTED, FailureType.CONFIG_ERROR),
                Arguments.of("28000", SqlFailures.Cause.NOT_PERMITTED, FailureType.CONFIG_ERROR),
                Arguments.of("3D000", SqlFailures.Cause.NOT_PERMITTED, FailureType.CONFIG_ERROR),
                // named objects that do not exist, server settings
                Arguments.of("42704", SqlFailures.Cause.MISSING_OBJECT, FailureType.CONFIG_ERROR),
                Arguments.of("55000", SqlFailures.Cause.SERVER_SETTING, FailureType.CONFIG_ERROR),
                Arguments.of("0A000", SqlFailures.Cause.SERVER_SETTING, FailureType.CONFIG_ERROR),
                Arguments.of("25006", SqlFailures.Cause.SERVER_SETTING, FailureType.CONFIG_ERROR),
                // a table or column gone under a running read
                Arguments.of("42P01", SqlFailures.Cause.OBJECT_CHANGED, FailureType.TRANSIENT_ERROR),
                Arguments.of("42703", SqlFailures.Cause.OBJECT_CHANGED, FailureType.TRANSIENT_ERROR),
                // anything else is a bug
                Arguments.of("XX000", SqlFailures.Cause.UNEXPECTED, FailureType.SYSTEM_ERROR),
                Arguments.of("22P02", SqlFailures.Cause.UNEXPECTED, FailureType.SYSTEM_ERROR),
                Arguments.of("42601", SqlFailures.Cause.UNEXPECTED, FailureType.SYSTEM_ERROR));
    }

    @ParameterizedTest(name = "{0} is {1}")
    @MethodSource("states")
    void classifiesBySqlState(String state, SqlFailures.Cause cause, FailureType type) {
        SQLException e = new SQLException("server says no", state);
        assertThat(SqlFailures.causeOf(e)).isEqualTo(cause);
        assertThat(SqlFailures.typeOf(e)).isEqualTo(type);
        ConnectorException failure = SqlFailures.failure("Reading something", e, "Do this.");
        assertThat(failure.failureType()).isEqualTo(type);
        assertThat(failure.getMessage()).isEqualTo("Reading something failed: server says no. Do this.");
        assertThat(failure.getCause()).isSameAs(e);
    }

    @Test
    void withoutASqlStateTheDriversCauseDecides() {
        assertThat(SqlFailures.causeOf(new SQLException("read timed out", null, new SocketTimeoutException("Read timed out"))))
                .isEqualTo(SqlFailures.Cause.TIMED_OUT);
        assertThat(SqlFailures.causeOf(new SQLException("io", null, new SocketException("Connection reset"))))
                .isEqualTo(SqlFailures.Cause.CONNECTION_LOST);
        assertThat(SqlFailures.causeOf(new SQLException("io", null, new RuntimeException(new EOFException()))))
                .isEqualTo(SqlFailures.Cause.CONNECTION_LOST);
        assertThat(SqlFailures.causeOf(new SQLException("nothing known"))).isEqualTo(SqlFailures.Cause.UNEXPECTED);
    }

    @Test
    void withoutAFixTheCausesOwnAdviceIsGiven() {
        ConnectorException failure = SqlFailures.failure("Writing a backfill fence", new SQLException("gone", "08006"));
        assertThat(failure.getMessage()).startsWith("Writing a backfill fence failed: gone. ")
                .endsWith(SqlFailures.Cause.CONNECTION_LOST.advice());
        assertThat(SqlFailures.explained("Slot x is in use.", new SQLException("busy", "55006")).failureType())
                .isEqualTo(FailureType.CONFIG_ERROR);
    }
}
