package io.sourcepostgres.backfill;

import static io.sourcepostgres.backfill.BackfillFixture.connect;
import static io.sourcepostgres.backfill.BackfillFixture.plan;
import static io.sourcepostgres.backfill.BackfillFixture.texts;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcepostgres.testing.PostgresCluster;
import io.sourcepostgres.testing.PostgresExtension;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Several small tables read one after the other in one snapshot ({@link SharedChunkRead}), against a real server:
 * the tables together take one chunk's bounds, the read stops after the first table it does not finish (which then
 * goes on by itself from its last key), and a table whose columns changed since it was planned ends the read
 * before it.
 */
@ExtendWith(PostgresExtension.class)
class SharedChunkReadIT {

    private static List<String> ids(Chunk chunk) {
        List<String> ids = new ArrayList<>();
        chunk.rows().forEach(r -> ids.add(texts(r).get(0)));
        return ids;
    }

    private static List<JsonNode> starts(int n) {
        return Arrays.asList(new JsonNode[n]);
    }

    @Test
    void tablesShareOneSnapshotWithinOneChunkAndATableLargerThanItsShareGoesOnByItself(PostgresCluster pg)
            throws Exception {
        String db = pg.createDatabase("bf_shared");
        pg.execute(db, "CREATE TABLE a (id int PRIMARY KEY, v text)", "CREATE TABLE b (id int PRIMARY KEY, v text)",
                "CREATE TABLE c (id int PRIMARY KEY, v text)",
                "INSERT INTO a SELECT g, 'a' || g FROM generate_series(1, 2) g",
                "INSERT INTO b SELECT g, 'b' || g FROM generate_series(1, 5) g",
                "INSERT INTO c SELECT g, 'c' || g FROM generate_series(1, 1) g");
        try (Connection c = connect(pg, db)) {
            ChunkReader a = new ChunkReader(plan(c, "public", "a"));
            ChunkReader b = new ChunkReader(plan(c, "public", "b"));
            ChunkReader cc = new ChunkReader(plan(c, "public", "c"));

            // Room for all: three finished chunks in one snapshot.
            List<Chunk> all = SharedChunkRead.read(c, List.of(a, b, cc), starts(3), 100, Long.MAX_VALUE);
            assertThat(all).hasSize(3).allMatch(Chunk::done);
            assertThat(all.get(0).snapshot()).isEqualTo(all.get(1).snapshot()).isEqualTo(all.get(2).snapshot());
            assertThat(ids(all.get(1))).containsExactly("1", "2", "3", "4", "5");
            assertThat(c.getAutoCommit()).isTrue();

            // Four rows for all: a takes 2, b the 2 left and is not finished; c is not read.
            List<Chunk> four = SharedChunkRead.read(c, List.of(a, b, cc), starts(3), 4, Long.MAX_VALUE);
            assertThat(four).hasSize(2);
            assertThat(four.get(0).done()).isTrue();
            assertThat(ids(four.get(1))).containsExactly("1", "2");
            assertThat(four.get(1).done()).isFalse();
            // b goes on by itself from its last key.
            Chunk rest = b.read(c, four.get(1).resumeAfter(), 4, Long.MAX_VALUE);
            assertThat(ids(rest)).containsExactly("3", "4", "5");
            assertThat(rest.done()).isTrue();

            // A byte bound reached inside b ends the read there too.
            List<Chunk> bytes = SharedChunkRead.read(c, List.of(a, b, cc), starts(3), 100, 12);
            assertThat(bytes.get(bytes.size() - 1).done()).isFalse();
            assertThat(bytes.size()).isLessThan(3);
            assertThat(c.getAutoCommit()).isTrue();
        }
    }

    @Test
    void aTableWhoseColumnsChangedEndsTheReadBeforeIt(PostgresCluster pg) throws Exception {
        String db = pg.createDatabase("bf_shared_shape");
        pg.execute(db, "CREATE TABLE a (id int PRIMARY KEY)", "CREATE TABLE b (id int PRIMARY KEY)",
                "INSERT INTO a VALUES (1)", "INSERT INTO b VALUES (1)");
        try (Connection c = connect(pg, db)) {
            ChunkReader a = new ChunkReader(plan(c, "public", "a"),
                    conn -> BackfillPlan.of(conn, BackfillFixture.table(conn, "public", "a"), List.of()));
            ChunkReader b = new ChunkReader(plan(c, "public", "b"));
            pg.execute(db, "ALTER TABLE b ADD COLUMN x int");
            List<Chunk> read = SharedChunkRead.read(c, List.of(a, b), starts(2), 100, Long.MAX_VALUE);
            assertThat(read).hasSize(1);
            assertThat(ids(read.get(0))).containsExactly("1");

            // The first table changed: it is read by itself, planned anew with its new column.
            pg.execute(db, "ALTER TABLE a ADD COLUMN y text DEFAULT 'y'");
            List<Chunk> first = SharedChunkRead.read(c, List.of(a, b), starts(2), 100, Long.MAX_VALUE);
            assertThat(first).hasSize(1);
            assertThat(first.get(0).plan().columns()).hasSize(2);
            assertThat(texts(first.get(0).rows().get(0))).containsExactly("1", "y");
            assertThat(c.getAutoCommit()).isTrue();
        }
    }
}
