package io.sourcepostgres.airbyte;

/**
 * One GLOBAL state message as the output writes it: the shared state's fields and the streams' states already
 * encoded (the {@code stream_states} array changes far less often than the position, so its encoding is kept
 * by whoever makes the states rather than redone per message).
 *
 * @param stateVersion     the version of the state's format
 * @param position         the WAL position, formatted as PostgreSQL does ({@code 0/16B3748})
 * @param timeline         the server's timeline when the state was made; 0 when unknown (not written)
 * @param unsentImagesJson {@code shared_state.unsent_images}, encoded; null when there are none (not written)
 * @param streamStatesJson the {@code stream_states} array, encoded as JSON
 * @param recordCount      records emitted since the previous state ({@code sourceStats.recordCount})
 */
public record GlobalState(int stateVersion, String position, String systemIdentifier, String slotName, long timeline,
        String unsentImagesJson, String streamStatesJson, long recordCount) {}
