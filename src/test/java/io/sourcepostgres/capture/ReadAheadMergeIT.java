package io.sourcepostgres.capture;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcepostgres.testing.AppliedRecords;
import io.sourcepostgres.testing.CaptureFixture;
import io.sourcepostgres.testing.ConnectorRun;
import io.sourcepostgres.testing.PostgresCluster;
import io.sourcepostgres.testing.PostgresExtension;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Chunks are read ahead on their own thread while replication goes on; a change delivered during a read is
 * logged and checked against the chunk's rows once the read is in, and a read that raced more changes than
 * its log holds is read again with replication paused. Writers here change far more rows per transaction
 * than a chunk holds, so both paths run; the applied output must equal the table and per key
 * {@code _ab_cdc_lsn} never decreases.
 */
@ExtendWith(PostgresExtension.class)
class ReadAheadMergeIT {
    private static final int ROWS = 10_000;

    @Test
    void changesRacingReadsAheadAreMergedWhetherLoggedOrReadAgain(PostgresCluster pg) throws Exception {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            f.sql("CREATE TABLE racy (id int PRIMARY KEY, v int NOT NULL DEFAULT 0, pad text)");
            f.sql("INSERT INTO racy SELECT g, 0, repeat('x', 200) FROM generate_series(1, " + ROWS + ") g");
            f.capture("public", "racy");
            f.config().put("backfill_chunk_size", 100);
            f.config().put("log_level", "DEBUG");
            AtomicBoolean stop = new AtomicBoolean();
            java.util.concurrent.atomic.AtomicInteger rounds = new java.util.concurrent.atomic.AtomicInteger();
            Thread writer = new Thread(() -> {
                int round = 0;
                while (!stop.get()) {
                    round = rounds.incrementAndGet();
                    if (round % 3 == 0) {
                        // 250 rows in one transaction, over the whole key range: more than the log of a
                        // 100-row chunk holds.
                        f.sql("UPDATE racy SET v = v + 1 WHERE id % 16 = " + (round % 16));
                    } else {
                        // A few rows: logged while a read is under way, then checked against its rows.
                        f.sql("UPDATE racy SET v = v + 1 WHERE id IN (SELECT id FROM racy ORDER BY random() LIMIT 5)");
                    }
                    if (round % 5 == 0) {
                        f.sql("DELETE FROM racy WHERE id = (SELECT id FROM racy ORDER BY random() LIMIT 1)");
                        f.sql("INSERT INTO racy SELECT " + (ROWS + round) + ", 0, 'new'");
                    }
                    if (round % 7 == 0) {
                        f.sql("UPDATE racy SET id = id + 100000 WHERE id = (SELECT id FROM racy WHERE id < 100000"
                                + " ORDER BY random() LIMIT 1)");
                    }
                }
            });
            writer.start();
            ConnectorRun first;
            try {
                // The writers under way (a large update among them) before the backfill's 100 reads start: each read
                // then races updates of 250 rows, which overflow its log, as well as small ones, which it logs.
                io.sourcepostgres.testing.Await.until("the writers under way", java.time.Duration.ofMinutes(1),
                        () -> rounds.get() > 3);
                first = f.read();
            } finally {
                stop.set(true);
                writer.join();
            }
            ConnectorRun second = f.read();
            assertThat(first.exitCode()).as(first.toString()).isZero();
            assertThat(second.exitCode()).as(second.toString()).isZero();

            long rereads = first.ofType("LOG").stream()
                    .filter(l -> l.at("/log/message").asText().contains("reading it again with replication paused"))
                    .count();
            long changesDuringBackfill = first.records().stream()
                    .filter(r -> r.at("/data/v").asInt() > 0).count();
            assertThat(changesDuringBackfill).as("the writers changed rows while the backfill ran").isPositive();
            assertThat(rereads).as("some read raced more changes than its log holds").isPositive();

            List<JsonNode> records = new ArrayList<>(first.records());
            records.addAll(second.records());
            Map<Integer, JsonNode> applied = new TreeMap<>();
            AppliedRecords.apply(records, data -> data.get("id").asText())
                    .forEach((id, row) -> applied.put(Integer.parseInt(id), row));
            String table = f.scalar("SELECT string_agg(id || '|' || v || '|' || pad, ',' ORDER BY id) FROM racy");
            List<String> appliedRows = new ArrayList<>();
            applied.forEach((id, row) -> appliedRows.add(id + "|" + row.get("v").asInt() + "|" + row.get("pad").asText()));
            assertThat(String.join(",", appliedRows)).isEqualTo(table);
        }
    }
}
