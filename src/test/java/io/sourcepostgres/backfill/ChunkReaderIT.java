package io.sourcepostgres.backfill;

import static io.sourcepostgres.backfill.BackfillFixture.connect;
import static io.sourcepostgres.backfill.BackfillFixture.expected;
import static io.sourcepostgres.backfill.BackfillFixture.plan;
import static io.sourcepostgres.backfill.BackfillFixture.queryString;
import static io.sourcepostgres.backfill.BackfillFixture.readAll;
import static io.sourcepostgres.backfill.BackfillFixture.serverMajor;
import static org.assertj.core.api.Assertions.assertThat;

import io.sourcepostgres.testing.PostgresCluster;
import io.sourcepostgres.testing.PostgresExtension;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Keys that are hard to order, each read with chunks of one row so that every row is a chunk boundary: the
 * chunks, each resumed from the previous one's resume_after after a round trip through JSON text, give every
 * row exactly once, in exactly the order of PostgreSQL's own ORDER BY on the key.
 */
@ExtendWith(PostgresExtension.class)
class ChunkReaderIT {

    /** Reads the table one row per chunk and compares with ORDER BY; returns the plan for further checks. */
    private static BackfillPlan assertReadsEveryRowOnceInKeyOrder(Connection c, String schema, String table,
            String... catalogKey) throws Exception {
        BackfillPlan plan = plan(c, schema, table, catalogKey);
        List<List<String>> expected = expected(c, plan);
        assertThat(expected).as("rows in %s", table).hasSizeGreaterThan(1);
        BackfillFixture.Read read = readAll(c, plan, 1, Long.MAX_VALUE);
        assertThat(read.rows()).as("rows of %s, chunk by chunk", table).containsExactlyElementsOf(expected);
        assertThat(read.chunks()).as("one chunk per row, then an empty one").hasSize(expected.size() + 1);
        return plan;
    }

    /** The test means something only if the key's order differs from plain byte order. */
    private static void assertOrderDiffersFromBytewise(Connection c, String table, String column) throws Exception {
        assertThat(queryString(c, "SELECT array_agg(" + column + "::text ORDER BY " + column + ") IS DISTINCT FROM "
                + "array_agg(" + column + "::text ORDER BY convert_to(" + column + "::text, 'UTF8')) FROM " + table))
                .as("%s orders differently from bytewise", table).isEqualTo("t");
    }

    @Test
    void textUnderIcuAndNonDeterministicCollationsAndADomainWithItsOwnCollation(PostgresCluster pg) throws Exception {
        String db = pg.createDatabase("bf_text");
        pg.execute(db,
                "CREATE TABLE icu (k text COLLATE \"en-US-x-icu\" PRIMARY KEY, n int)",
                "INSERT INTO icu SELECT k, row_number() OVER () FROM unnest(ARRAY['a','A','b','B','ä','Ä','Z','10','9',"
                        + "' x','a b','ab','é','e','E','😀','','-a','a-','co-op','coop','ß','ss','Ss','中文','ﬁ','fi',"
                        + "E'tab\\there', E'new\\nline', E'cr\\r', 'back\\slash', '\\N', '''quote', repeat('long', 500)]) k",
                "CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false)",
                "CREATE TABLE ci_text (k text COLLATE ci PRIMARY KEY)",
                "INSERT INTO ci_text VALUES ('apple'), ('Banana'), ('cherry'), ('ÄPFEL'), ('apfel'), ('Zebra'), ('zz'), ('é'),"
                        + " ('F'), ('g')",
                "CREATE DOMAIN code AS text COLLATE \"en-US-x-icu\"",
                "CREATE TABLE coded (k code PRIMARY KEY)",
                "INSERT INTO coded SELECT k FROM icu",
                "CREATE TABLE padded (k char(4) PRIMARY KEY, v varchar(10))",
                "INSERT INTO padded VALUES ('a', 'x'), ('a b', 'y'), ('ab', NULL), ('b', ''), (' a', 'z')");
        try (Connection c = connect(pg, db)) {
            assertOrderDiffersFromBytewise(c, "icu", "k");
            assertOrderDiffersFromBytewise(c, "ci_text", "k");
            assertOrderDiffersFromBytewise(c, "coded", "k");
            BackfillPlan icu = assertReadsEveryRowOnceInKeyOrder(c, "public", "icu");
            assertThat(icu.key().get(0).collation()).isEqualTo("\"pg_catalog\".\"en-US-x-icu\"");
            assertReadsEveryRowOnceInKeyOrder(c, "public", "ci_text");
            assertReadsEveryRowOnceInKeyOrder(c, "public", "coded");
            assertReadsEveryRowOnceInKeyOrder(c, "public", "padded");
        }
    }

    @Test
    void citextUuidAndBytea(PostgresCluster pg) throws Exception {
        String db = pg.createDatabase("bf_misc");
        pg.execute(db,
                "CREATE EXTENSION citext",
                "CREATE TABLE ci (k citext PRIMARY KEY)",
                "INSERT INTO ci VALUES ('abc'), ('ABD'), ('Abe'), ('aBf'), ('_x'), ('Z'), ('a'), ('B'), ('10'), ('9')",
                "CREATE TABLE ids (k uuid PRIMARY KEY, n int)",
                "INSERT INTO ids SELECT md5(i::text)::uuid, i FROM generate_series(1, 40) i",
                "INSERT INTO ids VALUES ('00000000-0000-0000-0000-000000000000', 0), ('ffffffff-ffff-ffff-ffff-ffffffffffff', -1)",
                "CREATE TABLE bin (k bytea PRIMARY KEY)",
                "INSERT INTO bin VALUES ('\\x'), ('\\x00'), ('\\x0000'), ('\\x01'), ('\\x7f'), ('\\x80'), ('\\xff'), ('\\xff00'),"
                        + " ('\\x5c'), ('\\x09'), ('\\x0a'), (convert_to('é', 'UTF8'))");
        try (Connection c = connect(pg, db)) {
            assertOrderDiffersFromBytewise(c, "ci", "k");
            assertReadsEveryRowOnceInKeyOrder(c, "public", "ci");
            assertReadsEveryRowOnceInKeyOrder(c, "public", "ids");
            assertReadsEveryRowOnceInKeyOrder(c, "public", "bin");
        }
    }

    @Test
    void numericWithSpecialValues(PostgresCluster pg) throws Exception {
        String db = pg.createDatabase("bf_numeric");
        pg.execute(db,
                "CREATE TABLE num (k numeric PRIMARY KEY)",
                "INSERT INTO num VALUES (-1e20), (-1.5), (-0.0001), (0), (0.001), (1), (1.5), (1.50001), (10), (9.99), (1e20),"
                        + " ('NaN'), ('" + "9".repeat(200) + "." + "1".repeat(50) + "')",
                "CREATE TABLE num_scaled (k numeric(10,2) PRIMARY KEY)",
                "INSERT INTO num_scaled VALUES (1), (1.1), (-3), (100), (0.01)");
        try (Connection c = connect(pg, db)) {
            if (serverMajor(c) >= 14) {
                pg.execute(db, "INSERT INTO num VALUES ('Infinity'), ('-Infinity')");
            }
            assertReadsEveryRowOnceInKeyOrder(c, "public", "num");
            assertReadsEveryRowOnceInKeyOrder(c, "public", "num_scaled");
        }
    }

    @Test
    void timestampsWithAndWithoutTimeZoneDatesAndTimes(PostgresCluster pg) throws Exception {
        String db = pg.createDatabase("bf_time");
        String[] moments = {"-infinity", "4713-11-24 00:00 BC", "0044-03-15 12:00 BC", "0001-01-01 00:00", "1999-12-31 23:59:59.999999",
            "2000-01-01 00:00", "2000-01-01 00:00:00.000001", "2024-03-10 10:30", "2024-11-03 08:30", "294276-12-31 23:59:59.999999",
            "infinity"};
        String values = String.join(", ", java.util.Arrays.stream(moments).map(m -> "('" + m + "')").toList());
        pg.execute(db,
                "CREATE TABLE ts (k timestamp PRIMARY KEY)",
                "INSERT INTO ts VALUES " + values,
                "CREATE TABLE tstz (k timestamptz PRIMARY KEY)",
                "INSERT INTO tstz SELECT (k || CASE WHEN k LIKE '%infinity' THEN '' WHEN k LIKE '% BC' THEN '' ELSE '+05:45' END)::timestamptz"
                        + " FROM unnest(ARRAY[" + String.join(", ", java.util.Arrays.stream(moments).map(m -> "'" + m + "'").toList()) + "]) k",
                "INSERT INTO tstz VALUES ('2024-03-10 10:30 America/New_York'), ('2024-03-10 10:30 Asia/Tokyo')",
                "CREATE TABLE days (d date, t time, tz timetz, PRIMARY KEY (d, t, tz))",
                "INSERT INTO days VALUES ('2024-02-29', '00:00', '00:00+00'), ('2024-02-29', '00:00', '00:00+05:45'),"
                        + " ('2024-02-29', '24:00', '12:00-03:30'), ('0044-03-15 BC', '12:00', '12:00+00'), ('infinity', '01:00', '01:00+00'),"
                        + " ('-infinity', '01:00', '01:00+00'), ('10000-01-01', '23:59:59.999999', '23:59:59.999999+14')");
        try (Connection c = connect(pg, db)) {
            assertReadsEveryRowOnceInKeyOrder(c, "public", "ts");
            assertReadsEveryRowOnceInKeyOrder(c, "public", "tstz");
            assertReadsEveryRowOnceInKeyOrder(c, "public", "days");
        }
    }

    @Test
    void enumsOrderedBySortOrderNotLabel(PostgresCluster pg) throws Exception {
        String db = pg.createDatabase("bf_enum");
        pg.execute(db,
                "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')",
                "ALTER TYPE mood ADD VALUE 'meh' BEFORE 'ok'",
                "ALTER TYPE mood ADD VALUE 'angry' BEFORE 'sad'",
                "ALTER TYPE mood ADD VALUE 'zen' AFTER 'angry'",
                "CREATE TABLE feelings (k mood PRIMARY KEY, note text)",
                "INSERT INTO feelings SELECT m, m::text FROM unnest(enum_range(NULL::mood)) m");
        try (Connection c = connect(pg, db)) {
            assertThat(queryString(c, "SELECT string_agg(k::text, ',' ORDER BY k) FROM feelings"))
                    .isEqualTo("angry,zen,sad,meh,ok,happy");
            assertReadsEveryRowOnceInKeyOrder(c, "public", "feelings");
        }
    }

    @Test
    void booleansAndCompositeKeysMixingHardTypes(PostgresCluster pg) throws Exception {
        String db = pg.createDatabase("bf_composite");
        pg.execute(db,
                "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')",
                "ALTER TYPE mood ADD VALUE 'meh' BEFORE 'sad'",
                "CREATE TABLE flags (k boolean PRIMARY KEY, n int)",
                "INSERT INTO flags VALUES (true, 1), (false, 2)",
                "CREATE TABLE mixed (t text COLLATE \"en-US-x-icu\", flag boolean, n numeric, m mood, b bytea, u uuid, ts timestamptz,"
                        + " payload text, PRIMARY KEY (t, flag, n, m, b, u, ts))",
                "INSERT INTO mixed SELECT t, f, n, m, b, md5(t || n)::uuid, '2024-01-01 00:00+00'::timestamptz + n * interval '1 hour', "
                        + "t || f || n || m FROM unnest(ARRAY['a', 'B', 'b', 'ä']) t, unnest(ARRAY[false, true]) f,"
                        + " unnest(ARRAY[1, 1.5, -2]::numeric[]) n, unnest(ARRAY['happy', 'meh']::mood[]) m,"
                        + " unnest(ARRAY['\\x'::bytea]) b",
                "INSERT INTO mixed VALUES ('a', false, 1, 'happy', '\\x00', md5('x')::uuid, 'infinity', 'extra')");
        try (Connection c = connect(pg, db)) {
            assertReadsEveryRowOnceInKeyOrder(c, "public", "flags");
            BackfillPlan mixed = assertReadsEveryRowOnceInKeyOrder(c, "public", "mixed");
            assertThat(mixed.keyColumnNames()).containsExactly("t", "flag", "n", "m", "b", "u", "ts");
            assertThat(mixed.orderingIndex()).isEqualTo("mixed_pkey");
        }
    }

    @Test
    void nullableKeyColumnsFromACatalogOverrideSortLast(PostgresCluster pg) throws Exception {
        String db = pg.createDatabase("bf_nulls");
        pg.execute(db,
                "CREATE TABLE things (id int PRIMARY KEY, category text COLLATE \"en-US-x-icu\", sub int, note text)",
                "INSERT INTO things VALUES (1, 'a', 1, 'x'), (2, 'a', NULL, 'x'), (3, NULL, 1, 'x'), (4, NULL, NULL, 'x'),"
                        + " (5, 'B', NULL, 'x'), (6, 'a', 2, 'x'), (7, NULL, NULL, NULL), (8, 'b', 1, ''), (9, 'B', 1, NULL),"
                        + " (10, NULL, 0, 'x'), (11, 'a', NULL, 'x'), (12, '', NULL, 'x')");
        try (Connection c = connect(pg, db)) {
            BackfillPlan plan = assertReadsEveryRowOnceInKeyOrder(c, "public", "things", "category", "sub", "id");
            assertThat(plan.keyFromCatalog()).isTrue();
            assertThat(plan.key()).extracting(ScanKeyColumn::nullable).containsExactly(true, true, false);
            // The last rows have NULL in both nullable columns: the reader must still tell 4 from 7.
            assertReadsEveryRowOnceInKeyOrder(c, "public", "things", "sub", "category", "id");
            assertReadsEveryRowOnceInKeyOrder(c, "public", "things", "id", "category");
            if (serverMajor(c) >= 15) {
                pg.execute(db,
                        "CREATE TABLE pairs (a int, b text, v text)",
                        "CREATE UNIQUE INDEX pairs_ab ON pairs (a, b) NULLS NOT DISTINCT",
                        "INSERT INTO pairs VALUES (1, 'x', ''), (1, NULL, ''), (NULL, 'x', ''), (NULL, NULL, ''), (2, 'y', ''),"
                                + " (NULL, 'a', ''), (0, NULL, '')");
                BackfillPlan pairs = assertReadsEveryRowOnceInKeyOrder(c, "public", "pairs", "a", "b");
                assertThat(pairs.orderingIndex()).isEqualTo("pairs_ab");
            }
        }
    }

    @Test
    void hostileSchemaTableAndColumnNames(PostgresCluster pg) throws Exception {
        String db = pg.createDatabase("bf_names");
        String schema = "Sch \"ema' select";
        String table = "select";
        String longName = "ж".repeat(31) + "x";
        assertThat(longName.getBytes(java.nio.charset.StandardCharsets.UTF_8)).hasSize(63);
        String q = io.sourcepostgres.postgres.Sql.identifier(schema) + "." + io.sourcepostgres.postgres.Sql.identifier(table);
        pg.execute(db,
                "CREATE SCHEMA " + io.sourcepostgres.postgres.Sql.identifier(schema),
                "CREATE TABLE " + q + " (\"\"\"quoted\"\"\" text, \"select\" int, \"ключ\" text COLLATE \"en-US-x-icu\", \""
                        + longName + "\" int, \"Mixed Case\" text, PRIMARY KEY (\"ключ\", \"select\", \"" + longName + "\"))",
                "INSERT INTO " + q + " SELECT 'v' || i, i % 3, k, i, 'mc' FROM generate_series(1, 6) i,"
                        + " unnest(ARRAY['Ä', 'a', 'b', 'z; DROP TABLE x; --', '''']) k");
        try (Connection c = connect(pg, db)) {
            BackfillPlan plan = assertReadsEveryRowOnceInKeyOrder(c, schema, table);
            assertThat(plan.keyColumnNames()).containsExactly("ключ", "select", longName);
            assertReadsEveryRowOnceInKeyOrder(c, schema, table, "\"quoted\"", "ключ", "select", longName);
        }
    }

    @Test
    void partitionedTablesReadEveryPartitionAndPlainTablesLeaveOutInheritanceChildren(PostgresCluster pg) throws Exception {
        String db = pg.createDatabase("bf_parts");
        pg.execute(db,
                "CREATE TABLE parted (region text, id int, PRIMARY KEY (region, id)) PARTITION BY LIST (region)",
                "CREATE TABLE parted_eu PARTITION OF parted FOR VALUES IN ('eu')",
                "CREATE TABLE parted_us PARTITION OF parted FOR VALUES IN ('us', 'ca')",
                "INSERT INTO parted SELECT r, i FROM unnest(ARRAY['eu', 'us', 'ca']) r, generate_series(1, 4) i",
                "CREATE TABLE parent (id int PRIMARY KEY, v text)",
                "CREATE TABLE child (extra int) INHERITS (parent)",
                "INSERT INTO parent VALUES (1, 'p'), (3, 'p'), (5, 'p')",
                "INSERT INTO child VALUES (2, 'c', 0), (4, 'c', 0)");
        try (Connection c = connect(pg, db)) {
            assertReadsEveryRowOnceInKeyOrder(c, "public", "parted");
            BackfillPlan parent = plan(c, "public", "parent");
            assertThat(readAll(c, parent, 1, Long.MAX_VALUE).rows()).extracting(r -> r.get(0)).containsExactly("1", "3", "5");
        }
    }

    @Test
    void largerChunksGiveTheSameRowsAndDoneComesWithTheLastRows(PostgresCluster pg) throws Exception {
        String db = pg.createDatabase("bf_sizes");
        pg.execute(db,
                "CREATE TABLE t (k text COLLATE \"en-US-x-icu\", n int, PRIMARY KEY (k, n))",
                "INSERT INTO t SELECT chr(65 + i % 26) || chr(97 + i % 7), i FROM generate_series(1, 100) i");
        try (Connection c = connect(pg, db)) {
            BackfillPlan plan = plan(c, "public", "t");
            List<List<String>> expected = expected(c, plan);
            for (int size : new int[] {7, 50, 99, 100, 101, 1000}) {
                BackfillFixture.Read read = readAll(c, plan, size, Long.MAX_VALUE);
                assertThat(read.rows()).as("chunks of %d", size).containsExactlyElementsOf(expected);
                Chunk last = read.chunks().get(read.chunks().size() - 1);
                assertThat(last.rowsRead()).as("last chunk of %d", size).isEqualTo(100 % size == 0 && size <= 100 ? 0 : 100 % size);
                assertThat(read.chunks()).hasSize(100 / size + 1);
            }
        }
    }

    @Test
    void resumesStrictlyAfterAKeyThatNoLongerExistsAndSeesRowsInsertedAfterIt(PostgresCluster pg) throws Exception {
        String db = pg.createDatabase("bf_resume");
        pg.execute(db,
                "CREATE TABLE t (k text COLLATE \"en-US-x-icu\" PRIMARY KEY)",
                "INSERT INTO t VALUES ('a'), ('B'), ('c'), ('D'), ('e')");
        try (Connection c = connect(pg, db)) {
            BackfillPlan plan = plan(c, "public", "t");
            ChunkReader reader = new ChunkReader(plan);
            Chunk first = reader.read(c, null, 2, Long.MAX_VALUE);
            assertThat(first.rows()).extracting(r -> r.text(0)).containsExactly("a", "B");
            assertThat(first.resumeAfter().toString()).isEqualTo("[\"B\"]");
            // en-US orders a < A < b < B < Ba < c < C: 'A' and 'b' land behind the scan, 'Ba' and 'C' ahead of it.
            pg.execute(db, "DELETE FROM t WHERE k = 'B'", "INSERT INTO t VALUES ('A'), ('b'), ('Ba'), ('C')");
            Chunk second = reader.read(c, first.resumeAfter(), 10, Long.MAX_VALUE);
            assertThat(second.rows()).extracting(r -> r.text(0)).containsExactly("Ba", "c", "C", "D", "e");
            assertThat(second.done()).isTrue();
        }
    }

    @Test
    void chunkRowsCanBeLookedUpAndRemovedByTheKeyAChangeEventCarries(PostgresCluster pg) throws Exception {
        String db = pg.createDatabase("bf_remove");
        pg.execute(db,
                "CREATE TABLE t (a text, b int, c text, PRIMARY KEY (b, a))",
                "INSERT INTO t VALUES ('x', 1, 'one'), ('y', 1, 'two'), ('x', 2, 'three')");
        try (Connection c = connect(pg, db)) {
            BackfillPlan plan = plan(c, "public", "t");
            assertThat(plan.keyPositions()).containsExactly(1, 0);
            Chunk chunk = new ChunkReader(plan).read(c, null, 10, Long.MAX_VALUE);
            // The key as the capture computes it from a pgoutput tuple: the key columns' text, in key order.
            RowKey fromChange = RowKey.of(List.of("1", "y"));
            assertThat(chunk.row(fromChange)).map(r -> r.text(2)).contains("two");
            assertThat(chunk.remove(fromChange)).isTrue();
            assertThat(chunk.remove(fromChange)).isFalse();
            assertThat(chunk.remove(RowKey.of(List.of("1", "z")))).isFalse();
            assertThat(chunk.row(fromChange)).isEmpty();
            assertThat(chunk.size()).isEqualTo(2);
            assertThat(chunk.rowsRead()).isEqualTo(3);
            assertThat(chunk.rows()).extracting(r -> r.text(2)).containsExactly("one", "three");
            assertThat(chunk.lastKey()).isEqualTo(RowKey.of(List.of("2", "x")));
            assertThat(chunk.resumeAfter().toString()).isEqualTo("[\"2\",\"x\"]");
            assertThat(chunk.remove(chunk.lastKey())).isTrue();
            assertThat(chunk.resumeAfter().toString()).as("removing rows does not move the scan").isEqualTo("[\"2\",\"x\"]");
        }
    }

    @Test
    void theChunkReportsItsSnapshotWithTransactionsStillRunning(PostgresCluster pg) throws Exception {
        String db = pg.createDatabase("bf_snapshot");
        pg.execute(db, "CREATE TABLE t (id int PRIMARY KEY)", "INSERT INTO t VALUES (1)");
        try (Connection c = connect(pg, db); Connection writer = pg.connect(db)) {
            writer.setAutoCommit(false);
            long xid;
            try (var st = writer.createStatement()) {
                st.execute("INSERT INTO t VALUES (2)");
                try (var rs = st.executeQuery("SELECT txid_current()")) {
                    rs.next();
                    xid = rs.getLong(1);
                }
            }
            Chunk running = new ChunkReader(plan(c, "public", "t")).read(c, null, 10, Long.MAX_VALUE);
            assertThat(running.rows()).extracting(r -> r.text(0)).containsExactly("1");
            // The writer's xid is at or past xmax (one past the highest completed xid) or listed as in progress.
            assertThat(xid >= running.snapshot().xmax() || running.snapshot().inProgress().contains(xid)).isTrue();
            assertThat(running.snapshot().includes(xid)).isFalse();
            assertThat(running.snapshot().includes32(xid & 0xFFFFFFFFL)).isFalse();
            writer.commit();
            Chunk after = new ChunkReader(plan(c, "public", "t")).read(c, null, 10, Long.MAX_VALUE);
            assertThat(after.rows()).extracting(r -> r.text(0)).containsExactly("1", "2");
            assertThat(after.snapshot().includes(xid)).isTrue();
            assertThat(after.snapshot().includes32(xid & 0xFFFFFFFFL)).isTrue();
        }
    }

    @Test
    void wideRowsAreCutAfterTheRowThatCrossesTheByteBound(PostgresCluster pg) throws Exception {
        String db = pg.createDatabase("bf_wide");
        pg.execute(db,
                "CREATE TABLE wide (id int PRIMARY KEY, body text, tail text)",
                // incompressible-ish 100 kB bodies, plus escapes that COPY doubles
                "INSERT INTO wide SELECT i, (SELECT string_agg(md5(i::text || j::text), '') FROM generate_series(1, 3125) j),"
                        + " repeat(E'\\t\\\\', 10) FROM generate_series(1, 30) i");
        try (Connection c = connect(pg, db)) {
            BackfillPlan plan = plan(c, "public", "wide");
            List<List<String>> expected = expected(c, plan);
            long maxBytes = 250_000;
            // maxRows 1000: the first chunk is cut with ~2.7 MB of the LIMIT still to come, so the COPY is cancelled.
            BackfillFixture.Read read = readAll(c, plan, 1000, maxBytes);
            assertThat(read.rows()).containsExactlyElementsOf(expected);
            assertThat(read.chunks().get(0).cutByBytes()).isTrue();
            assertThat(read.chunks().get(0).rowsRead()).isEqualTo(3);
            for (Chunk chunk : read.chunks()) {
                if (chunk.rowsRead() > 0) {
                    long rowBytes = chunk.bytes() / chunk.rowsRead();
                    assertThat(chunk.bytes() - rowBytes).as("bytes before the chunk's last row").isLessThan(maxBytes);
                }
                if (chunk.cutByBytes()) {
                    assertThat(chunk.bytes()).isGreaterThanOrEqualTo(maxBytes);
                    assertThat(chunk.done()).isFalse();
                }
            }
            // After a cut the reader asks for about as many rows as fit, so it need not cut every chunk.
            assertThat(read.chunks().stream().filter(Chunk::cutByBytes).count()).isLessThan(read.chunks().size() / 2);
            // The connection is clean after a cancelled COPY: no open or aborted transaction, no stray cancel.
            assertThat(queryString(c, "SELECT 'still usable'")).isEqualTo("still usable");
            assertThat(c.getAutoCommit()).isTrue();
            // Whatever the bound, every chunk has at least one row.
            BackfillFixture.Read tiny = readAll(c, plan, 1000, 1);
            assertThat(tiny.rows()).containsExactlyElementsOf(expected);
            assertThat(tiny.chunks()).hasSize(expected.size() + 1);
        }
    }

    @Test
    void aResumeAfterThatDoesNotFitTheKeyIsAConfigError(PostgresCluster pg) throws Exception {
        String db = pg.createDatabase("bf_misfit");
        pg.execute(db, "CREATE TABLE t (a int, b int, PRIMARY KEY (a, b))", "INSERT INTO t VALUES (1, 1)");
        try (Connection c = connect(pg, db)) {
            ChunkReader reader = new ChunkReader(plan(c, "public", "t"));
            List<String> bad = new ArrayList<>(List.of("[\"1\"]", "[\"1\", null]", "[1, 2]", "{\"a\": 1}"));
            for (String json : bad) {
                org.assertj.core.api.Assertions.assertThatThrownBy(
                        () -> reader.read(c, io.sourcepostgres.airbyte.Json.MAPPER.readTree(json), 10, 1000))
                        .as(json).isInstanceOfSatisfying(io.sourcepostgres.airbyte.ConnectorException.class,
                                e -> assertThat(e.failureType()).isEqualTo(io.sourcepostgres.airbyte.FailureType.CONFIG_ERROR))
                        .hasMessageContaining("public.t").hasMessageContaining("resume_after");
            }
            assertThat(reader.read(c, io.sourcepostgres.airbyte.Json.MAPPER.readTree("[\"0\", \"5\"]"), 10, 1000).size())
                    .isEqualTo(1);
        }
    }
}
