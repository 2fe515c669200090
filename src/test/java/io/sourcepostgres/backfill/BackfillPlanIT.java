package io.sourcepostgres.backfill;

import static io.sourcepostgres.backfill.BackfillFixture.connect;
import static io.sourcepostgres.backfill.BackfillFixture.plan;
import static io.sourcepostgres.backfill.BackfillFixture.table;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sourcepostgres.airbyte.ConnectorException;
import io.sourcepostgres.airbyte.FailureType;
import io.sourcepostgres.testing.PostgresCluster;
import io.sourcepostgres.testing.PostgresExtension;
import java.sql.Connection;
import java.util.List;
import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Scan keys that cannot give a complete, resumable scan are refused with a config error that names the fix. */
@ExtendWith(PostgresExtension.class)
class BackfillPlanIT {

    private static AbstractThrowableAssert<?, ? extends Throwable> assertConfigError(Connection c, String table,
            String... catalogKey) {
        return assertThatThrownBy(() -> plan(c, "public", table, catalogKey))
                .isInstanceOfSatisfying(ConnectorException.class,
                        e -> assertThat(e.failureType()).isEqualTo(FailureType.CONFIG_ERROR))
                .hasMessageContaining("public." + table);
    }

    @Test
    void aTableWithoutAnyKeyIsRefusedWithBothFixes(PostgresCluster pg) throws Exception {
        String db = pg.createDatabase("bf_plan");
        pg.execute(db,
                "CREATE TABLE nokey (a int, b text)",
                "CREATE TABLE uniq_only (a int NOT NULL, b text)",
                "CREATE UNIQUE INDEX uniq_only_a ON uniq_only (a)");
        try (Connection c = connect(pg, db)) {
            assertConfigError(c, "nokey").hasMessageContaining("has no primary key")
                    .hasMessageContaining("ALTER TABLE \"public\".\"nokey\" ADD PRIMARY KEY")
                    .hasMessageContaining("\"primary_key\"");
            assertConfigError(c, "uniq_only").hasMessageContaining("unique index \"uniq_only_a\" would do: \"primary_key\": [[\"a\"]]");
            assertThat(plan(c, "public", "uniq_only", "a").keyColumnNames()).containsExactly("a");
        }
    }

    @Test
    void aCatalogKeyNamingAMissingOrRepeatedColumnIsRefused(PostgresCluster pg) throws Exception {
        String db = pg.createDatabase("bf_plan");
        pg.execute(db, "CREATE TABLE t (\"Id\" int PRIMARY KEY, name text)");
        try (Connection c = connect(pg, db)) {
            assertConfigError(c, "t", "id").hasMessageContaining("names column \"id\", which the table does not have")
                    .hasMessageContaining("Id, name").hasMessageContaining("case-sensitive");
            assertConfigError(c, "t", "Id", "Id").hasMessageContaining("names a column twice");
            assertThat(plan(c, "public", "t", "Id").keyColumnNames()).containsExactly("Id");
        }
    }

    @Test
    void aCatalogKeyWithoutAUniqueIndexIsRefusedWithTheIndexToCreate(PostgresCluster pg) throws Exception {
        String db = pg.createDatabase("bf_plan");
        pg.execute(db,
                "CREATE TABLE t (id int PRIMARY KEY, a int NOT NULL, b int NOT NULL, c int, d int NOT NULL)",
                "CREATE INDEX t_a ON t (a)",
                "CREATE UNIQUE INDEX t_b_partial ON t (b) WHERE b > 0",
                "CREATE UNIQUE INDEX t_expr ON t ((a + b))",
                "CREATE UNIQUE INDEX t_d_incl ON t (d) INCLUDE (a)");
        try (Connection c = connect(pg, db)) {
            assertConfigError(c, "t", "a").hasMessageContaining("is not backed by a unique index")
                    .hasMessageContaining("CREATE UNIQUE INDEX CONCURRENTLY ON \"public\".\"t\" (\"a\")")
                    .hasMessageContaining("primary key [id]");
            assertConfigError(c, "t", "b").hasMessageContaining("is not backed by a unique index");
            assertConfigError(c, "t", "a", "b").hasMessageContaining("(\"a\", \"b\")");
            // A superset of a unique index's columns is unique too; INCLUDE columns are not part of the key.
            assertThat(plan(c, "public", "t", "a", "id").keyColumnNames()).containsExactly("a", "id");
            assertThat(plan(c, "public", "t", "d").keyColumnNames()).containsExactly("d");
            assertConfigError(c, "t", "a").hasMessageContaining("catalog's primary_key [a]");
        }
    }

    @Test
    void aUniqueIndexThatAllowsRepeatedNullsDoesNotMakeAKey(PostgresCluster pg) throws Exception {
        String db = pg.createDatabase("bf_plan");
        pg.execute(db,
                "CREATE TABLE t (id int PRIMARY KEY, a int, b text)",
                "CREATE UNIQUE INDEX t_ab ON t (a, b)");
        try (Connection c = connect(pg, db)) {
            assertConfigError(c, "t", "a", "b").hasMessageContaining("index \"t_ab\"")
                    .hasMessageContaining("several rows hold NULL in [a, b]")
                    .hasMessageContaining("ALTER TABLE \"public\".\"t\" ALTER COLUMN \"a\" SET NOT NULL, ALTER COLUMN \"b\" SET NOT NULL")
                    .hasMessageContaining("NULLS NOT DISTINCT");
            pg.execute(db, "ALTER TABLE t ALTER COLUMN a SET NOT NULL, ALTER COLUMN b SET NOT NULL");
            assertThat(plan(c, "public", "t", "a", "b").key()).extracting(ScanKeyColumn::nullable).containsExactly(false, false);
        }
    }

    @Test
    void aKeyColumnWithoutAnOrderingIsRefused(PostgresCluster pg) throws Exception {
        String db = pg.createDatabase("bf_plan");
        pg.execute(db, "CREATE TABLE t (id int PRIMARY KEY, doc json, p point)");
        try (Connection c = connect(pg, db)) {
            assertConfigError(c, "t", "id", "doc").hasMessageContaining("cannot be ordered")
                    .hasMessageContaining("json");
            assertConfigError(c, "t", "p", "id").hasMessageContaining("cannot be ordered");
        }
    }

    @Test
    void thePlanNamesTheIndexThatServesItsOrderOrNone(PostgresCluster pg) throws Exception {
        String db = pg.createDatabase("bf_plan");
        pg.execute(db,
                "CREATE TABLE t (id int PRIMARY KEY, a text NOT NULL, b text NOT NULL)",
                "CREATE UNIQUE INDEX t_ba ON t (b, a)",
                "CREATE UNIQUE INDEX t_a_pattern ON t (a text_pattern_ops)");
        try (Connection c = connect(pg, db)) {
            BackfillPlan byPk = plan(c, "public", "t");
            assertThat(byPk.orderingIndex()).isEqualTo("t_pkey");
            assertThat(byPk.keyFromCatalog()).isFalse();
            assertThat(plan(c, "public", "t", "b", "a").orderingIndex()).isEqualTo("t_ba");
            assertThat(plan(c, "public", "t", "a", "b").orderingIndex()).as("no index in (a, b) order").isNull();
            assertThat(plan(c, "public", "t", "a").orderingIndex()).as("text_pattern_ops is not ORDER BY's order").isNull();
        }
    }

    @Test
    void rowEstimatesForAnalyzedNeverAnalyzedEmptyAndPartitionedTables(PostgresCluster pg) throws Exception {
        String db = pg.createDatabase("bf_estimate");
        pg.execute(db,
                "CREATE TABLE analyzed (id int PRIMARY KEY, v text)",
                "INSERT INTO analyzed SELECT i, md5(i::text) FROM generate_series(1, 20000) i",
                "ANALYZE analyzed",
                "CREATE TABLE fresh (id int PRIMARY KEY, v text)",
                "INSERT INTO fresh SELECT i, md5(i::text) FROM generate_series(1, 5000) i",
                "CREATE TABLE empty (id int PRIMARY KEY)",
                "CREATE TABLE parted (id int, r int, PRIMARY KEY (r, id)) PARTITION BY LIST (r)",
                "CREATE TABLE parted_1 PARTITION OF parted FOR VALUES IN (1)",
                "CREATE TABLE parted_2 PARTITION OF parted FOR VALUES IN (2)",
                "INSERT INTO parted SELECT i, 1 + i % 2 FROM generate_series(1, 8000) i",
                "ANALYZE parted");
        try (Connection c = connect(pg, db)) {
            RowEstimate analyzed = RowEstimate.of(c, table(c, "public", "analyzed"));
            assertThat(analyzed.rows()).isEqualTo(20000);
            assertThat(analyzed.bytes()).isGreaterThan(20000L * 33);
            RowEstimate fresh = RowEstimate.of(c, table(c, "public", "fresh"));
            assertThat(fresh.rows()).as("never analyzed: guessed from pages and widths").isBetween(1000L, 25000L);
            RowEstimate empty = RowEstimate.of(c, table(c, "public", "empty"));
            assertThat(empty.rows()).isZero();
            RowEstimate parted = RowEstimate.of(c, table(c, "public", "parted"));
            assertThat(parted.rows()).isEqualTo(8000);
            assertThat(parted.bytes()).isPositive();
        }
    }

    @Test
    void theKeyColumnsKeepTheirCollationsAndPositions(PostgresCluster pg) throws Exception {
        String db = pg.createDatabase("bf_plan");
        pg.execute(db, "CREATE TABLE t (x int, name text COLLATE \"en-US-x-icu\", n int, PRIMARY KEY (n, name))");
        try (Connection c = connect(pg, db)) {
            BackfillPlan plan = plan(c, "public", "t");
            assertThat(plan.columns()).extracting(col -> col.name()).containsExactly("x", "name", "n");
            assertThat(plan.keyColumnNames()).containsExactly("n", "name");
            assertThat(plan.keyPositions()).containsExactly(2, 1);
            assertThat(plan.key()).extracting(ScanKeyColumn::collation)
                    .containsExactly(null, "\"pg_catalog\".\"en-US-x-icu\"");
            assertThat(plan.serverMajorVersion()).isEqualTo(BackfillFixture.serverMajor(c));
            assertThat(List.of(plan.keyFromCatalog())).containsExactly(false);
        }
    }
}
