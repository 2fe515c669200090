package io.sourcepostgres.airbyte;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Writing to stdout failed, most often because its reader went away (a broken pipe). Nothing more can be
 * said on stdout, so this is reported on stderr and the run stops with a failure.
 */
public final class StdoutFailedException extends UncheckedIOException {
    public StdoutFailedException(IOException cause) {
        super("writing to stdout failed", cause);
    }

    /** The one line stderr gets. */
    public String explanation() {
        return "source-postgres: writing to stdout failed (" + getCause().getMessage()
                + "): the reader of its output went away, so the run stops.";
    }
}
