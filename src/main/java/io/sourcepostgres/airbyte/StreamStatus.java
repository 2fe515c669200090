package io.sourcepostgres.airbyte;

/** The lifecycle of a stream within one sync, as TRACE STREAM_STATUS reports it. */
public enum StreamStatus {
    STARTED, RUNNING, COMPLETE, INCOMPLETE
}
