package io.sourcepostgres.capture;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcepostgres.testing.AppliedRecords;
import io.sourcepostgres.testing.CaptureFixture;
import io.sourcepostgres.testing.ConnectorRun;
import io.sourcepostgres.testing.Destination;
import io.sourcepostgres.testing.PostgresCluster;
import io.sourcepostgres.testing.PostgresExtension;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Preexisting rows: chunked, resumable, merged with replication; streams added, removed, full refresh. */
@ExtendWith(PostgresExtension.class)
class BackfillIT {

    private static List<Integer> ids(ConnectorRun run, String stream) {
        return run.records().stream().filter(r -> r.get("stream").asText().equals(stream))
                .map(r -> r.at("/data/id").asInt()).collect(Collectors.toList());
    }

    @Test
    void preexistingRowsAreBackfilledInKeyOrderThenChangesFollow(PostgresCluster pg) {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            f.sql("CREATE TABLE pre (id int PRIMARY KEY, v text)",
                    "INSERT INTO pre SELECT g, 'v' || g FROM generate_series(1, 250) g");
            f.capture("public", "pre");
            f.config().put("backfill_chunk_size", 40);
            ConnectorRun run = f.read();
            assertThat(run.exitCode()).as(run.toString()).isZero();
            List<Integer> expected = new ArrayList<>();
            for (int i = 1; i <= 250; i++) {
                expected.add(i);
            }
            assertThat(ids(run, "pre")).isEqualTo(expected);
            assertThat(run.traces("ESTIMATE")).hasSize(1);
            assertThat(run.traces("ESTIMATE").get(0).at("/estimate/name").asText()).isEqualTo("pre");
            assertThat(run.states().size()).as("a state after each chunk").isGreaterThanOrEqualTo(7);
            JsonNode last = run.states().get(run.states().size() - 1);
            assertThat(last.at("/global/stream_states/0/stream_state/phase").asText()).isEqualTo("active");
            for (JsonNode r : run.records()) {
                assertThat(r.at("/data/_ab_cdc_deleted_at").isNull()).isTrue();
                assertThat(r.at("/data/_ab_cdc_lsn").asLong()).isPositive();
            }

            f.sql("UPDATE pre SET v = 'changed' WHERE id = 7", "INSERT INTO pre VALUES (251, 'new')");
            ConnectorRun next = f.read();
            assertThat(ids(next, "pre")).containsExactly(7, 251);
        }
    }

    @Test
    void aRestartDuringTheBackfillReadsAtMostOneChunkAgain(PostgresCluster pg) {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            f.sql("CREATE TABLE r (id int PRIMARY KEY)", "INSERT INTO r SELECT generate_series(1, 100)");
            f.capture("public", "r");
            f.config().put("backfill_chunk_size", 10);
            ConnectorRun full = f.read();
            assertThat(ids(full, "r")).hasSize(100);
            // Pretend the run died right after its fourth state: resume from it.
            JsonNode fourth = full.states().get(3);
            String phase = fourth.at("/global/stream_states/0/stream_state/phase").asText();
            assertThat(phase).isEqualTo("backfilling");
            int resumeAfter = Integer.parseInt(fourth.at("/global/stream_states/0/stream_state/resume_after/0").asText());
            f.setState(fourth);
            ConnectorRun resumed = f.read();
            List<Integer> again = ids(resumed, "r");
            assertThat(again.get(0)).isEqualTo(resumeAfter + 1);
            assertThat(again).hasSize(100 - resumeAfter);
        }
    }

    @Test
    void changesRacingAChunkAreMergedWithoutLossOrStaleImages(PostgresCluster pg) throws Exception {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            f.sql("CREATE TABLE race (id int PRIMARY KEY, n int NOT NULL)",
                    "INSERT INTO race SELECT g, 0 FROM generate_series(1, 300) g");
            f.capture("public", "race");
            f.config().put("backfill_chunk_size", 1);
            Thread writer = new Thread(() -> {
                for (int i = 1; i <= 200; i++) {
                    int id = 1 + (i * 37) % 300;
                    f.sql("UPDATE race SET n = n + 1 WHERE id = " + id);
                    if (i % 20 == 0) {
                        f.sql("DELETE FROM race WHERE id = " + id, "INSERT INTO race VALUES (" + (1000 + i) + ", 0)");
                    }
                }
            });
            writer.start();
            ConnectorRun run = f.read();
            writer.join();
            ConnectorRun tail = f.read();
            assertThat(run.exitCode()).as(run.toString()).isZero();
            // Apply both runs like a destination (per key, the LSN never decreases) and compare with the table.
            List<JsonNode> all = new ArrayList<>(run.records());
            all.addAll(tail.records());
            Map<String, JsonNode> applied = AppliedRecords.apply(all, data -> data.get("id").asText());
            Map<String, JsonNode> table = new TreeMap<>();
            for (String row : Destination.rows(pg, f.database, "race")) {
                String[] parts = row.substring(1, row.length() - 1).split(",");
                table.put(parts[0], JsonNodeFactory.instance.objectNode().put("id", Integer.parseInt(parts[0]))
                        .put("n", Integer.parseInt(parts[1])));
            }
            assertThat(applied).isEqualTo(table);
        }
    }

    @Test
    void aStreamAddedLaterIsBackfilledAndARemovedOneLeavesTheState(PostgresCluster pg) {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            f.sql("CREATE TABLE a (id int PRIMARY KEY)", "CREATE TABLE b (id int PRIMARY KEY)",
                    "INSERT INTO a VALUES (1), (2)", "INSERT INTO b VALUES (10), (20), (30)");
            f.capture("public", "a");
            assertThat(ids(f.read(), "a")).containsExactly(1, 2);
            f.capture("public", "b");
            f.sql("INSERT INTO a VALUES (3)");
            ConnectorRun both = f.read();
            assertThat(ids(both, "a")).containsExactly(3);
            assertThat(ids(both, "b")).containsExactly(10, 20, 30);
            ObjectNode catalog = f.catalog();
            // drop stream a from the catalog
            ObjectNode onlyB = catalog.deepCopy();
            onlyB.withArray("streams").remove(0);
            CaptureFixture.Catalog.set(f, onlyB);
            ConnectorRun later = f.read();
            JsonNode state = later.states().get(later.states().size() - 1);
            assertThat(state.at("/global/stream_states")).hasSize(1);
            assertThat(state.at("/global/stream_states/0/stream_descriptor/name").asText()).isEqualTo("b");
        }
    }

    @Test
    void fullRefreshStreamsAreReadAgainEveryRunAndNeverReplicated(PostgresCluster pg) {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            f.sql("CREATE TABLE fr (id int PRIMARY KEY)", "INSERT INTO fr VALUES (1), (2)");
            f.capture("public", "fr");
            f.fullRefresh("fr");
            assertThat(ids(f.read(), "fr")).containsExactly(1, 2);
            f.sql("INSERT INTO fr VALUES (3)");
            ConnectorRun second = f.read();
            assertThat(ids(second, "fr")).containsExactly(1, 2, 3);
            assertThat(second.states().get(second.states().size() - 1).at("/global/stream_states")).isEmpty();
        }
    }

    @Test
    void aCatalogPrimaryKeyOverrideOrdersTheBackfill(PostgresCluster pg) {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            // FULL: replication can follow a key other than the replica identity's only when every old value is logged.
            f.sql("CREATE TABLE ov (id int PRIMARY KEY, code text NOT NULL UNIQUE)", "ALTER TABLE ov REPLICA IDENTITY FULL",
                    "INSERT INTO ov VALUES (1, 'c'), (2, 'a'), (3, 'b')");
            f.capture("public", "ov");
            f.primaryKey("ov", "code");
            f.config().put("backfill_chunk_size", 1);
            assertThat(ids(f.read(), "ov")).containsExactly(2, 3, 1);
        }
    }

    @Test
    void aRowModifiedByATransactionOpenDuringItsChunkIsNotEmittedStale(PostgresCluster pg) throws Exception {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            f.sql("CREATE TABLE open_tx (id int PRIMARY KEY, n int NOT NULL)",
                    "INSERT INTO open_tx SELECT g, 0 FROM generate_series(1, 20) g");
            f.capture("public", "open_tx");
            f.config().put("backfill_chunk_size", 10); // two chunks; id 7 in the first
            f.createPublicationAndSlot();
            try (java.sql.Connection writer = pg.connect(f.database)) {
                writer.setAutoCommit(false);
                // Modified before the backfill reads it, committed only after the read began.
                writer.createStatement().execute("UPDATE open_tx SET n = 1 WHERE id = 7");
                java.util.concurrent.CompletableFuture<ConnectorRun> read =
                        java.util.concurrent.CompletableFuture.supplyAsync(f::read);
                // The race, made certain: the first chunk (id 7's) is read while the update is open.
                f.awaitBackfillWaitingForWriters();
                writer.commit();
                ConnectorRun run = read.get(120, java.util.concurrent.TimeUnit.SECONDS);
                assertThat(run.exitCode()).as(run.toString()).isZero();
                // Per key the LSN never decreases, and id 7 ends as the update left it.
                Map<String, JsonNode> applied = AppliedRecords.apply(run.records(), data -> data.get("id").asText());
                assertThat(applied).containsKey("7");
                assertThat(applied.get("7").get("n").asInt()).isEqualTo(1);
                assertThat(ids(run, "open_tx")).contains(1, 20);
            }
        }
    }
}
