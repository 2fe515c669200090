package io.sourcepostgres.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sourcepostgres.airbyte.ConnectorException;
import io.sourcepostgres.airbyte.FailureType;
import io.sourcepostgres.testing.Await;
import io.sourcepostgres.testing.PostgresCluster;
import io.sourcepostgres.testing.PostgresExtension;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.postgresql.PGConnection;
import org.postgresql.replication.LogSequenceNumber;
import org.postgresql.replication.PGReplicationStream;

@ExtendWith(PostgresExtension.class)
class ReplicationSlotsIT {

    @Test
    void createFindAndDropAPgoutputSlot(PostgresCluster pg) throws Exception {
        String db = pg.createDatabase("slots");
        String name = slotName();
        try (Connection c = pg.connect(db)) {
            assertThat(ReplicationSlots.find(c, name)).isEmpty();
            int before = ReplicationSlots.count(c);

            ReplicationSlot slot = ReplicationSlots.createPgoutput(c, name);

            assertThat(slot.name()).isEqualTo(name);
            assertThat(slot.plugin()).isEqualTo("pgoutput");
            assertThat(slot.slotType()).isEqualTo("logical");
            assertThat(slot.isLogical()).isTrue();
            assertThat(slot.database()).isEqualTo(db);
            assertThat(slot.active()).isFalse();
            assertThat(slot.activePid()).isNull();
            assertThat(slot.confirmedFlushLsn()).isNotNull().isNotEqualTo(LogSequenceNumber.INVALID_LSN);
            assertThat(slot.restartLsn()).isNotNull();
            assertThat(slot.restartLsn().asLong()).isLessThanOrEqualTo(slot.confirmedFlushLsn().asLong());
            if (pg.majorVersion() >= 13) {
                assertThat(slot.walStatus()).isEqualTo("reserved");
            } else {
                assertThat(slot.walStatus()).as("PostgreSQL 12 has no wal_status").isNull();
            }
            assertThat(slot.hasLostWal()).isFalse();
            assertThat(ReplicationSlots.find(c, name)).contains(slot);
            assertThat(ReplicationSlots.count(c)).isEqualTo(before + 1);

            ReplicationSlots.drop(c, name);

            assertThat(ReplicationSlots.find(c, name)).isEmpty();
        }
    }

    @Test
    void aPhysicalSlotHasNoPluginAndNoDatabase(PostgresCluster pg) throws Exception {
        String name = slotName();
        try (Connection c = pg.connect()) {
            pg.execute("postgres", "SELECT pg_create_physical_replication_slot('" + name + "')");
            try {
                ReplicationSlot slot = ReplicationSlots.find(c, name).orElseThrow();
                assertThat(slot.isLogical()).isFalse();
                assertThat(slot.slotType()).isEqualTo("physical");
                assertThat(slot.plugin()).isNull();
                assertThat(slot.database()).isNull();
                assertThat(slot.confirmedFlushLsn()).isNull();
            } finally {
                ReplicationSlots.drop(c, name);
            }
        }
    }

    @Test
    void creatingAnExistingSlotOrDroppingAMissingOneAreConfigErrors(PostgresCluster pg) throws Exception {
        String name = slotName();
        try (Connection c = pg.connect()) {
            ReplicationSlots.createPgoutput(c, name);
            try {
                assertThatThrownBy(() -> ReplicationSlots.createPgoutput(c, name))
                        .isInstanceOfSatisfying(ConnectorException.class,
                                e -> assertThat(e.failureType()).isEqualTo(FailureType.CONFIG_ERROR))
                        .hasMessageContaining("'" + name + "' already exists");
            } finally {
                ReplicationSlots.drop(c, name);
            }
            assertThatThrownBy(() -> ReplicationSlots.drop(c, name))
                    .isInstanceOf(ConnectorException.class)
                    .hasMessageContaining("'" + name + "' does not exist");
        }
    }

    @Test
    void aSlotInUseCannotBeDroppedAndShowsWhoHoldsIt(PostgresCluster pg) throws Exception {
        String db = pg.createDatabase("slots");
        String name = slotName();
        pg.execute(db, "CREATE PUBLICATION p FOR ALL TABLES");
        try (Connection c = pg.connect(db)) {
            ReplicationSlots.createPgoutput(c, name);
            try (Connection replication = pg.replicationConnection(db);
                    PGReplicationStream stream = replication.unwrap(PGConnection.class).getReplicationAPI()
                            .replicationStream().logical().withSlotName(name)
                            .withSlotOption("proto_version", "1").withSlotOption("publication_names", "p").start()) {
                ReplicationSlot held = ReplicationSlots.find(c, name).orElseThrow();
                assertThat(held.active()).isTrue();
                assertThat(held.activePid()).isPositive();

                assertThatThrownBy(() -> ReplicationSlots.drop(c, name))
                        .isInstanceOfSatisfying(ConnectorException.class,
                                // The user must act (stop the other process), as when a read finds its slot active.
                                e -> assertThat(e.failureType()).isEqualTo(FailureType.CONFIG_ERROR))
                        .hasMessageContaining("in use by another connection");
            }
            Await.until("slot " + name + " to be released", Duration.ofSeconds(30),
                    () -> !active(c, name));
            ReplicationSlots.drop(c, name);
        }
    }

    private static boolean active(Connection c, String slot) {
        try {
            return ReplicationSlots.find(c, slot).orElseThrow().active();
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String slotName() {
        return "slot_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    }
}
