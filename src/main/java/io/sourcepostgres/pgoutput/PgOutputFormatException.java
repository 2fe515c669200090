package io.sourcepostgres.pgoutput;

/**
 * Bytes that are not a pgoutput message this decoder understands: truncated, of an unknown or unrequested
 * type, or inconsistent with the protocol state. The message names the message type and the byte offset
 * within the message, so a captured hex dump can be matched against it.
 */
public final class PgOutputFormatException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public PgOutputFormatException(String message) {
        super(message);
    }
}
