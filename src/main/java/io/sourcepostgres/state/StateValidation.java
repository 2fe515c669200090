package io.sourcepostgres.state;

import io.sourcepostgres.airbyte.ConnectorException;
import io.sourcepostgres.pgoutput.Lsn;

/**
 * Refuses a state that does not belong to this server and slot, before anything is read: trusting it
 * would silently skip or repeat changes.
 */
public final class StateValidation {
    private StateValidation() {}

    /**
     * @param systemIdentifier this cluster's system identifier
     * @param slotName the configured slot
     * @param slotConfirmedFlush the slot's confirmed_flush_lsn: the oldest position it can still stream from
     */
    public static void check(CaptureState state, String systemIdentifier, String slotName, long slotConfirmedFlush) {
        if (!state.systemIdentifier().equals(systemIdentifier)) {
            throw ConnectorException.config("The state belongs to another PostgreSQL cluster (system identifier "
                    + state.systemIdentifier() + "; this server's is " + systemIdentifier + "). A restored or "
                    + "different server has other WAL positions, so resuming would lose or repeat changes. Reset the "
                    + "connection (start without state) to backfill from this server.");
        }
        if (!state.slotName().equals(slotName)) {
            throw ConnectorException.config("The state was taken from replication slot \"" + state.slotName()
                    + "\", but slot_name is \"" + slotName + "\". Set slot_name back to \"" + state.slotName()
                    + "\", or reset the connection (start without state) to use the new slot.");
        }
        if (Lsn.compare(slotConfirmedFlush, state.position()) > 0) {
            throw ConnectorException.config("Replication slot \"" + slotName + "\" has already moved past the state's "
                    + "position (slot at " + Lsn.format(slotConfirmedFlush) + ", state at " + Lsn.format(state.position())
                    + "): the changes in between are gone. The slot was dropped and recreated, or an older state was "
                    + "passed. Pass the latest state, or reset the connection (start without state) to backfill again.");
        }
    }
}
