package io.sourcepostgres.airbyte;

/** Where LOG messages go (level-filtered, secrets redacted); safe to call from any thread. */
public interface LogSink {
    boolean isEnabled(LogLevel level);

    void log(LogLevel level, String message, Throwable error);

    default void log(LogLevel level, String message) {
        log(level, message, null);
    }
}
