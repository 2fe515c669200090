package io.sourcepostgres.capture;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcepostgres.airbyte.Json;
import io.sourcepostgres.testing.Await;
import io.sourcepostgres.testing.CaptureFixture;
import io.sourcepostgres.testing.Connector;
import io.sourcepostgres.testing.ConnectorProcess;
import io.sourcepostgres.testing.Destination;
import io.sourcepostgres.testing.Orchestrator;
import io.sourcepostgres.testing.PostgresCluster;
import io.sourcepostgres.testing.PostgresExtension;
import io.sourcepostgres.testing.WriterThreads;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A database as users have them, every table selected as {@code discover} offers it: keyed tables (one with a
 * large out-of-line column that updates leave alone), a partitioned table (list partitions, one of them
 * sub-partitioned by range, and a DEFAULT partition; updates move rows between partitions), and keyless tables
 * (one plain, one partitioned) written insert-only. Writers run through every run; the first run is stopped in
 * the middle of the backfill and the next resumes from its last STATE. At the end the destination — upserts and
 * deletes by key for keyed streams, an append-only history for keyless ones — equals the source, table by table.
 * The connector creates its own publication and slot, as a new user's first run does.
 */
@ExtendWith(PostgresExtension.class)
class MixedDatabaseIT {
    private static final Duration RUN = Duration.ofMinutes(5);
    private static final int ROWS = 3000;
    private static final String[] TABLES = {"public.k_int", "public.k_doc", "public.part", "public.log_nokey",
        "public.parts_nokey"};

    @Test
    void oneReadOfADatabaseOfKeyedKeylessAndPartitionedTablesComesOutExact(PostgresCluster pg) {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            Orchestrator orchestrator = mixedDatabase(f, pg);
            orchestrator.run(RUN);
            orchestrator.assertDestinationEqualsSource(TABLES);
        }
    }

    @Test
    void underWritersAndAcrossARunStoppedMidBackfillItComesOutExactToo(PostgresCluster pg) throws Exception {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            Orchestrator orchestrator = mixedDatabase(f, pg);

            // Two writers, each transaction 1-4 statements, one in ten rolled back; paced so that a connector sharing
            // a loaded machine can still catch up. Two writers moving rows onto the same key, or locking in
            // opposite orders, give up that transaction.
            long[] fresh = {1000L * 1_000_000, 1001L * 1_000_000};
            WriterThreads writers = WriterThreads.start(pg, f.database, 2, 1000, 4, Set.of("23505", "40P01", "40001"),
                    (c, r, thread) -> {
                        try (Statement st = c.createStatement()) {
                            int statements = 1 + r.nextInt(4);
                            for (int i = 0; i < statements; i++) {
                                st.execute(statement(r, fresh[thread]++));
                            }
                        }
                        return r.nextInt(10) != 0;
                    });
            try {
                // Stopped in the middle of the backfill: after the first STATE that records a backfill under way.
                try (ConnectorProcess p = orchestrator.start()) {
                    p.await(MixedDatabaseIT::backfillUnderWay, RUN, "a STATE with a backfill under way");
                    p.terminate();
                    orchestrator.accept(p.finish(RUN));
                }
                writers.awaitMore(200);
                orchestrator.run(RUN);
                writers.awaitMore(200);
                orchestrator.run(RUN);
            } finally {
                writers.close();
            }
            orchestrator.run(RUN);
            orchestrator.assertDestinationEqualsSource(TABLES);
            assertThat(writers.committed()).as("the writers committed while the connector ran").isGreaterThan(400);
        }
    }

    /**
     * The tables, every one selected as discover offers it, and an orchestrator whose destination has a table for
     * each stream (keyed ones upserted by key, keyless ones appended).
     */
    private static Orchestrator mixedDatabase(CaptureFixture f, PostgresCluster pg) {
        f.sql("CREATE TABLE k_int (id int PRIMARY KEY, v text, n int)",
                "INSERT INTO k_int SELECT g, 'v' || g, g FROM generate_series(1, " + ROWS + ") g",
                "CREATE TABLE k_doc (code text PRIMARY KEY, n int, doc text)",
                "ALTER TABLE k_doc ALTER COLUMN doc SET STORAGE EXTERNAL",
                "INSERT INTO k_doc SELECT 'c' || g, g, repeat(md5(g::text), 80) FROM generate_series(1, 300) g",
                "CREATE TABLE part (id int, region text, v text, PRIMARY KEY (id, region)) PARTITION BY LIST (region)",
                "CREATE TABLE part_eu PARTITION OF part FOR VALUES IN ('eu')",
                "CREATE TABLE part_us PARTITION OF part FOR VALUES IN ('us') PARTITION BY RANGE (id)",
                "CREATE TABLE part_us_lo PARTITION OF part_us FOR VALUES FROM (MINVALUE) TO (1500)",
                "CREATE TABLE part_us_hi PARTITION OF part_us FOR VALUES FROM (1500) TO (MAXVALUE)",
                "CREATE TABLE part_other PARTITION OF part DEFAULT",
                "INSERT INTO part SELECT g, (ARRAY['eu', 'us', 'ap'])[1 + g % 3], 'p' || g FROM generate_series(1, "
                        + ROWS + ") g",
                "CREATE TABLE log_nokey (n int, note text)",
                "INSERT INTO log_nokey SELECT g, 'n' || g FROM generate_series(1, " + ROWS + ") g",
                "CREATE TABLE parts_nokey (n int, grp int) PARTITION BY RANGE (grp)",
                "CREATE TABLE parts_nokey_a PARTITION OF parts_nokey FOR VALUES FROM (0) TO (5)",
                "CREATE TABLE parts_nokey_b PARTITION OF parts_nokey FOR VALUES FROM (5) TO (10)",
                "INSERT INTO parts_nokey SELECT g, g % 10 FROM generate_series(1, " + ROWS + ") g");
        f.config().put("backfill_chunk_size", 200);
        Map<String, List<String>> keys = selectEverything(f);
        assertThat(keys).as("one stream per table, partitions under their root")
                .containsOnlyKeys("k_int", "k_doc", "part", "log_nokey", "parts_nokey");
        assertThat(keys.get("part")).containsExactlyInAnyOrder("id", "region");
        assertThat(keys.get("log_nokey")).isEmpty();
        assertThat(keys.get("parts_nokey")).isEmpty();

        Destination destination = new Destination(pg, pg.createDatabase("dest"));
        destination.createTable("public.k_int", "id int PRIMARY KEY, v text, n int");
        destination.createTable("public.k_doc", "code text PRIMARY KEY, n int, doc text");
        destination.createTable("public.part", "id int, region text, v text, PRIMARY KEY (id, region)");
        destination.createTable("public.log_nokey", "n int, note text");
        destination.createTable("public.parts_nokey", "n int, grp int");
        return new Orchestrator(f, destination, keys);
    }

    /** The discovered catalog, every stream incremental: append_dedup by its key, append when it has none. */
    private static Map<String, List<String>> selectEverything(CaptureFixture f) {
        JsonNode discovered = Connector.run("discover", "--config", f.configFile().toString()).catalog();
        ObjectNode catalog = Json.MAPPER.createObjectNode();
        ArrayNode streams = catalog.putArray("streams");
        Map<String, List<String>> keys = new HashMap<>();
        for (JsonNode stream : discovered.get("streams")) {
            List<String> key = new ArrayList<>();
            for (JsonNode path : stream.path("source_defined_primary_key")) {
                key.add(path.get(0).asText());
            }
            ObjectNode s = streams.addObject();
            s.set("stream", stream);
            s.put("sync_mode", "incremental");
            s.put("destination_sync_mode", key.isEmpty() ? "append" : "append_dedup");
            keys.put(stream.get("name").asText(), key);
        }
        CaptureFixture.Catalog.set(f, catalog);
        return keys;
    }

    private static boolean backfillUnderWay(JsonNode m) {
        if (!m.path("type").asText().equals("STATE")) {
            return false;
        }
        for (JsonNode s : m.at("/state/global/stream_states")) {
            if (s.at("/stream_state/phase").asText().equals("backfilling")) {
                return true;
            }
        }
        return false;
    }

    /**
     * One statement of the writers' transactions over every table: upserts, updates (of the keyed document's small
     * column only), key changes, deletes, moves between partitions and sub-partitions, and inserts into the keyless
     * tables.
     */
    private static String statement(Random r, long fresh) {
        int id = 1 + r.nextInt(ROWS);
        String region = new String[] {"eu", "us", "ap"}[r.nextInt(3)];
        return switch (r.nextInt(12)) {
            case 0 -> "INSERT INTO k_int VALUES (" + id + ", 'ins', 0) ON CONFLICT (id) DO UPDATE SET v = 'ups'";
            case 1 -> "UPDATE k_int SET n = n + 1, v = 'upd' WHERE id = " + id;
            case 2 -> "DELETE FROM k_int WHERE id = " + id;
            case 3 -> "UPDATE k_int SET id = " + (ROWS + (fresh % 100_000)) + " WHERE id = " + id
                    + " AND NOT EXISTS (SELECT 1 FROM k_int WHERE id = " + (ROWS + (fresh % 100_000)) + ")";
            case 4 -> "UPDATE k_doc SET n = n + 1 WHERE code = 'c" + (1 + r.nextInt(300)) + "'";
            case 5 -> "INSERT INTO part VALUES (" + id + ", '" + region + "', 'ins') ON CONFLICT (id, region) "
                    + "DO UPDATE SET v = 'ups'";
            case 6 -> "UPDATE part SET region = '" + region + "' WHERE id = " + id + " AND NOT EXISTS (SELECT 1 FROM "
                    + "part WHERE id = " + id + " AND region = '" + region + "')";
            case 7 -> "UPDATE part SET id = " + (id < 1500 ? id + 1500 : id - 1400) + " WHERE id = " + id
                    + " AND region = 'us' AND NOT EXISTS (SELECT 1 FROM part WHERE region = 'us' AND id = "
                    + (id < 1500 ? id + 1500 : id - 1400) + ")";
            case 8 -> "DELETE FROM part WHERE id = " + id + " AND region = '" + region + "'";
            case 9 -> "INSERT INTO log_nokey VALUES (" + fresh + ", 'w')";
            case 10 -> "INSERT INTO parts_nokey VALUES (" + fresh + ", " + r.nextInt(10) + ")";
            default -> "UPDATE part SET v = 'upd' WHERE id = " + id;
        };
    }
}
