package io.sourcepostgres.airbyte;

/**
 * A failure that knows who must act on it. Thrown where the cause is understood; the CLI turns it
 * into one TRACE ERROR at the top. The message is written for the user: what is wrong and how to fix it.
 */
public final class ConnectorException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final FailureType failureType;

    public ConnectorException(FailureType failureType, String message, Throwable cause) {
        super(message, cause);
        this.failureType = failureType;
    }

    public static ConnectorException config(String message) {
        return new ConnectorException(FailureType.CONFIG_ERROR, message, null);
    }

    public static ConnectorException config(String message, Throwable cause) {
        return new ConnectorException(FailureType.CONFIG_ERROR, message, cause);
    }

    public static ConnectorException transientError(String message, Throwable cause) {
        return new ConnectorException(FailureType.TRANSIENT_ERROR, message, cause);
    }

    public static ConnectorException system(String message, Throwable cause) {
        return new ConnectorException(FailureType.SYSTEM_ERROR, message, cause);
    }

    public FailureType failureType() {
        return failureType;
    }
}
