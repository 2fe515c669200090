package io.sourcepostgres.capture;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcepostgres.testing.AppliedRecords;
import io.sourcepostgres.testing.Await;
import io.sourcepostgres.testing.CaptureFixture;
import io.sourcepostgres.testing.ConnectorRun;
import io.sourcepostgres.testing.PostgresCluster;
import io.sourcepostgres.testing.PostgresExtension;
import io.sourcepostgres.testing.WriterThreads;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Many small tables share snapshots and fences (backfill/SharedChunkRead) and still come out exact: 300 tables of
 * 10 rows are backfilled through the real launcher while writers insert, update and delete rows of them (some
 * transactions touching two tables), and a destination applying the records ends equal to the source. The fences
 * are counted where the server wrote them: a second slot with test_decoding, created before the run, sees every
 * logical decoding message with the connector's fence prefix.
 */
@ExtendWith(PostgresExtension.class)
class SharedBackfillIT {
    private static final int TABLES = 300;
    private static final int ROWS = 10;

    @Test
    void smallTablesShareFencesAndArriveExactUnderConcurrentWriters(PostgresCluster pg) throws Exception {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            f.sql("DO $$ BEGIN FOR i IN 1 .. " + TABLES + " LOOP "
                    + "EXECUTE format('CREATE TABLE %I (id int PRIMARY KEY, n int NOT NULL)', 's' || i); "
                    + "EXECUTE format('INSERT INTO %I SELECT g, 0 FROM generate_series(1, " + ROWS + ") g', 's' || i); "
                    + "END LOOP; END $$");
            for (int i = 1; i <= TABLES; i++) {
                f.capture("public", "s" + i);
            }
            f.createPublicationAndSlot();
            String fenceSlot = f.slot + "_fences";
            f.sql("SELECT pg_create_logical_replication_slot('" + fenceSlot + "', 'test_decoding')");

            // Two writers; transactions that update rows of two tables can deadlock with each other: such a one is
            // rolled back and not counted.
            WriterThreads writers = WriterThreads.start(pg, f.database, 2, 0, 0, java.util.Set.of("40P01"),
                    SharedBackfillIT::write);
            Await.until("the writers' first commits", Duration.ofSeconds(60), () -> writers.committed() >= 20);

            long before = writers.committed();
            ConnectorRun first = f.launch(600);
            long during = writers.committed() - before;
            String firstEnd = f.scalar("SELECT pg_current_wal_lsn()::text");
            writers.close();
            assertThat(first.exitCode()).as(() -> first.stderr() + first.traces("ERROR")).isZero();
            assertThat(during).as("writer commits while the first read ran").isGreaterThan(0);

            // Far fewer fences than tables: the first read wrote one per shared read, not one per table.
            long fences = Long.parseLong(f.scalar("SELECT count(*) FROM pg_logical_slot_peek_changes('" + fenceSlot
                    + "', '" + firstEnd + "', NULL) WHERE data LIKE 'message:%prefix: source-postgres/fence%'"));
            f.sql("SELECT pg_drop_replication_slot('" + fenceSlot + "')");
            System.out.println("SharedBackfillIT: " + fences + " fences for " + TABLES + " tables, " + during
                    + " writer commits during the first read, " + first.records().size() + " records");
            assertThat(fences).as("fences written by the first read of " + TABLES + " tables").isLessThan(TABLES / 10);

            // The writers' last changes, then the destination equals the source.
            ConnectorRun tail = f.launch(300);
            assertThat(tail.exitCode()).as(() -> tail.stderr() + tail.traces("ERROR")).isZero();
            List<JsonNode> all = new ArrayList<>(first.records());
            all.addAll(tail.records());
            Map<String, JsonNode> applied = AppliedRecords.apply(withKeys(all), data -> data.get("_key").asText());
            Map<String, Long> destination = new TreeMap<>();
            applied.forEach((key, data) -> destination.put(key, data.get("n").asLong()));
            assertThat(destination).isEqualTo(source(pg, f.database));
        }
    }

    /**
     * One writer transaction: a single-table insert, update or delete, or an update of a row in each of two tables.
     */
    private static boolean write(Connection c, Random random, int thread) throws java.sql.SQLException {
        try (Statement st = c.createStatement()) {
            String t = "\"s" + (1 + random.nextInt(TABLES)) + "\"";
            int id = 1 + random.nextInt(ROWS + 5);
            switch (random.nextInt(4)) {
                case 0 -> st.execute("UPDATE " + t + " SET n = n + 1 WHERE id = " + id);
                case 1 -> st.execute("DELETE FROM " + t + " WHERE id = " + id);
                case 2 -> st.execute("INSERT INTO " + t + " VALUES (" + id + ", 1) ON CONFLICT (id) DO UPDATE SET n = "
                        + t + ".n + 1");
                default -> {
                    String other = "\"s" + (1 + random.nextInt(TABLES)) + "\"";
                    st.execute("UPDATE " + t + " SET n = n + 1 WHERE id = " + id);
                    st.execute("UPDATE " + other + " SET n = n + 1 WHERE id = " + id);
                }
            }
        }
        return true;
    }

    /** Every row of every table as table/id to n. */
    private static Map<String, Long> source(PostgresCluster pg, String database) throws Exception {
        Map<String, Long> rows = new TreeMap<>();
        try (Connection c = pg.connect(database); Statement st = c.createStatement()) {
            for (int i = 1; i <= TABLES; i++) {
                try (ResultSet rs = st.executeQuery("SELECT id, n FROM \"s" + i + "\"")) {
                    while (rs.next()) {
                        rows.put("s" + i + "/" + rs.getInt(1), rs.getLong(2));
                    }
                }
            }
        }
        return rows;
    }

    /** Records with their stream folded into a {@code _key} field of their data, so that keys of all tables differ. */
    private static List<JsonNode> withKeys(List<JsonNode> records) {
        List<JsonNode> keyed = new ArrayList<>();
        for (JsonNode r : records) {
            ObjectNode copy = r.deepCopy();
            ((ObjectNode) copy.get("data")).put("_key", r.get("stream").asText() + "/" + r.at("/data/id").asText());
            keyed.add(copy);
        }
        return keyed;
    }
}
