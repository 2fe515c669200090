package io.sourcepostgres.airbyte;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.SimpleFormatter;

/**
 * Where java.util.logging goes (pgjdbc logs through it): warnings and errors only, one line each on stderr,
 * every password of the run removed first. Not stdout: a driver may log from any thread at any moment,
 * even while a RECORD is half written, and stdout carries only whole Airbyte messages.
 */
public final class RedactingLogHandler extends Handler {
    private final Secrets secrets;
    private final PrintStream stderr;
    private final Formatter formatter = new SimpleFormatter();

    public RedactingLogHandler(Secrets secrets, PrintStream stderr) {
        this.secrets = secrets;
        this.stderr = stderr;
        setLevel(Level.WARNING);
    }

    @Override
    public void publish(LogRecord record) {
        if (record == null || !isLoggable(record)) {
            return;
        }
        StringBuilder line = new StringBuilder("source-postgres: ").append(record.getLevel().getName()).append(' ')
                .append(record.getLoggerName()).append(": ").append(formatter.formatMessage(record));
        if (record.getThrown() != null) {
            StringWriter trace = new StringWriter();
            record.getThrown().printStackTrace(new PrintWriter(trace));
            line.append(System.lineSeparator()).append(trace);
        }
        String text = secrets.redact(line.toString());
        synchronized (stderr) {
            stderr.println(text);
            stderr.flush();
        }
    }

    @Override
    public void flush() {
        stderr.flush();
    }

    @Override
    public void close() {
        flush();
    }
}
