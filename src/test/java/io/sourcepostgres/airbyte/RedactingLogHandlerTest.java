package io.sourcepostgres.airbyte;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.Test;

class RedactingLogHandlerTest {
    private static final String PASSWORD = "p@ss:w/rd?&%";

    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final Secrets secrets = new Secrets();
    private final RedactingLogHandler handler =
            new RedactingLogHandler(secrets, new PrintStream(bytes, true, StandardCharsets.UTF_8));

    @Test
    void passwordsInMessageParametersAndStackTracesAreRemoved() {
        secrets.register(PASSWORD);
        String encoded = URLEncoder.encode(PASSWORD, StandardCharsets.UTF_8);
        LogRecord record = new LogRecord(Level.WARNING, "connecting with {0} to {1}");
        record.setLoggerName("org.postgresql.Driver");
        record.setParameters(new Object[] {"password=" + PASSWORD, "postgres://u:" + encoded + "@h/db"});
        record.setThrown(new SQLException("auth failed for " + PASSWORD, new IllegalStateException(encoded)));

        handler.publish(record);

        String text = bytes.toString(StandardCharsets.UTF_8);
        assertThat(text).startsWith("source-postgres: WARNING org.postgresql.Driver: connecting with password=****")
                .contains("postgres://u:****@h/db", "java.sql.SQLException: auth failed for ****",
                        "Caused by: java.lang.IllegalStateException: ****")
                .doesNotContain(PASSWORD).doesNotContain(encoded);
    }

    @Test
    void lessThanWarningsIsNotWritten() {
        LogRecord fine = new LogRecord(Level.FINE, "Downgraded to non-encrypted connection");
        LogRecord info = new LogRecord(Level.INFO, "something chatty");

        handler.publish(fine);
        handler.publish(info);
        handler.publish(new LogRecord(Level.SEVERE, "broken"));

        assertThat(bytes.toString(StandardCharsets.UTF_8)).isEqualTo("source-postgres: SEVERE null: broken"
                + System.lineSeparator());
    }
}
