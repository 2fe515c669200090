package io.sourcepostgres.airbyte;

import java.util.Locale;

/** Airbyte LOG levels, most severe first. */
public enum LogLevel {
    FATAL, ERROR, WARN, INFO, DEBUG, TRACE;

    public boolean enabledAt(LogLevel threshold) {
        return ordinal() <= threshold.ordinal();
    }

    public static LogLevel parse(String text) {
        try {
            return valueOf(text.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw ConnectorException.config("log_level '" + text + "' is not one of ERROR, WARN, INFO, DEBUG, TRACE.");
        }
    }
}
