package io.sourcepostgres.airbyte;

/** Who must act on a failure, in the words of the Airbyte protocol's {@code failure_type}. */
public enum FailureType {
    /** The user must change something: configuration, privileges, server settings. */
    CONFIG_ERROR("config_error"),
    /** Retrying later can succeed: network trouble, a restarting server. */
    TRANSIENT_ERROR("transient_error"),
    /** A bug in the connector. */
    SYSTEM_ERROR("system_error");

    private final String wireName;

    FailureType(String wireName) {
        this.wireName = wireName;
    }

    public String wireName() {
        return wireName;
    }
}
