package io.sourcepostgres.capture;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcepostgres.testing.AppliedRecords;
import io.sourcepostgres.testing.CaptureFixture;
import io.sourcepostgres.testing.ConnectorRun;
import io.sourcepostgres.testing.PostgresCluster;
import io.sourcepostgres.testing.PostgresExtension;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What TortureIT found: a row updated by a transaction still open when its chunk is read must not be
 * emitted before that update, also when another transaction holds the row FOR KEY SHARE (as every
 * foreign key check on a child row does to its parent) — the row's xmax is then a MultiXact, not the
 * updater's transaction id.
 */
@ExtendWith(PostgresExtension.class)
class KeyShareLockedRowIT {

    @Test
    void aRowUpdatedWhileAnotherTransactionHoldsItForKeyShareIsNotEmittedStale(PostgresCluster pg) throws Exception {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            f.sql("CREATE TABLE parent (id int PRIMARY KEY, n int NOT NULL)",
                    "INSERT INTO parent SELECT g, 0 FROM generate_series(1, 20) g");
            f.capture("public", "parent");
            f.config().put("backfill_chunk_size", 10); // two chunks; id 7 in the first
            f.createPublicationAndSlot();
            try (Connection locker = pg.connect(f.database); Connection writer = pg.connect(f.database)) {
                locker.setAutoCommit(false);
                writer.setAutoCommit(false);
                locker.createStatement().execute("SELECT 1 FROM parent WHERE id = 7 FOR KEY SHARE");
                // Not a key change: it does not wait for the lock, and the row's xmax becomes a MultiXact.
                writer.createStatement().execute("UPDATE parent SET n = 1 WHERE id = 7");
                CompletableFuture<ConnectorRun> read = CompletableFuture.supplyAsync(f::read);
                // The race, made certain: the first chunk (id 7's) is read while the update is open.
                f.awaitBackfillWaitingForWriters();
                writer.commit();
                locker.commit();
                ConnectorRun first = read.get(120, TimeUnit.SECONDS);
                assertThat(first.exitCode()).as(first.toString()).isZero();
                ConnectorRun second = f.read();
                assertThat(second.exitCode()).as(second.toString()).isZero();

                // Per key the LSN never decreases across both runs, and id 7 ends as the update left it.
                List<JsonNode> records = new ArrayList<>(first.records());
                records.addAll(second.records());
                Map<String, JsonNode> applied = AppliedRecords.apply(records, data -> data.get("id").asText());
                assertThat(applied).containsKey("7");
                assertThat(applied.get("7").get("n").asInt()).isEqualTo(1);
            }
        }
    }
}
