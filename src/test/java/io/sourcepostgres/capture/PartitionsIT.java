package io.sourcepostgres.capture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcepostgres.testing.CaptureFixture;
import io.sourcepostgres.testing.ConnectorRun;
import io.sourcepostgres.testing.PostgresCluster;
import io.sourcepostgres.testing.PostgresExtension;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Partitioned tables: one stream per root, whatever the publication publishes its changes under. */
@ExtendWith(PostgresExtension.class)
class PartitionsIT {

    private static List<Integer> ids(ConnectorRun run, String stream) {
        return run.records().stream().filter(r -> r.get("stream").asText().equals(stream))
                .map(r -> r.at("/data/id").asInt()).toList();
    }

    @Test
    void theCreatedPublicationPublishesPartitionsAsTheirOwnMappedToTheRoot(PostgresCluster pg) {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            f.sql("CREATE TABLE m (id int, region text, PRIMARY KEY (id, region)) PARTITION BY LIST (region)",
                    "CREATE TABLE m_a PARTITION OF m FOR VALUES IN ('a')",
                    "CREATE TABLE m_rest PARTITION OF m DEFAULT",
                    "INSERT INTO m VALUES (1, 'a'), (2, 'x')");
            f.capture("public", "m");
            ConnectorRun first = f.read();
            assertThat(first.exitCode()).as(first.toString()).isZero();
            assertThat(ids(first, "m")).containsExactlyInAnyOrder(1, 2);
            // Never via the root: partitions' changes come as their own (PartitionRootPublishing says why).
            assertThat(f.scalar("SELECT " + (pg.majorVersion() >= 13 ? "pubviaroot" : "false")
                    + "::text FROM pg_publication WHERE pubname = '" + f.publication + "'")).isEqualTo("false");
            // A partition created and filled after the backfill, and a row moved between partitions.
            f.sql("CREATE TABLE m_b PARTITION OF m FOR VALUES IN ('b')", "INSERT INTO m VALUES (3, 'b')",
                    "UPDATE m SET region = 'b' WHERE id = 1");
            ConnectorRun second = f.read();
            assertThat(second.exitCode()).as(second.toString()).isZero();
            assertThat(second.records()).allMatch(r -> r.get("stream").asText().equals("m"));
            // The new partition holds a row when the run starts, so the root is backfilled again (a partition
            // attached with rows looks the same, see PartitionChangesIT): applied in order, the moved row ends in b.
            List<JsonNode> all = new java.util.ArrayList<>(first.records());
            all.addAll(second.records());
            assertThat(io.sourcepostgres.testing.AppliedRecords.apply(all,
                    d -> d.get("id").asText() + "|" + d.get("region").asText()).keySet())
                    .containsExactly("1|b", "2|x", "3|b");
        }
    }

    @Test
    void aPublicationOfSomePartitionsOnlyIsAWarningNamingTheOthers(PostgresCluster pg) {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            f.sql("CREATE TABLE s (id int, region text, PRIMARY KEY (id, region)) PARTITION BY LIST (region)",
                    "CREATE TABLE s_a PARTITION OF s FOR VALUES IN ('a')",
                    "CREATE TABLE s_b PARTITION OF s FOR VALUES IN ('b')",
                    "CREATE PUBLICATION " + f.publication + " FOR TABLE s_a");
            f.capture("public", "s");
            ConnectorRun run = f.read();
            assertThat(run.exitCode()).as(run.toString()).isZero();
            assertThat(run.ofType("LOG").stream().map(l -> l.at("/log/message").asText())
                    .filter(m -> m.contains("only partly in publication") && m.contains("public.s_b")
                            && !m.contains("public.s_a") && m.contains("ADD TABLE \"public\".\"s\""))
                    .toList()).hasSize(1);
        }
    }

    /**
     * A TRUNCATE of one partition removes rows of the root. Through a publication via the root, pgoutput sends nothing
     * for it, so the connector's own publication leaves the option off and the truncate arrives (as the partition's),
     * named under the root's stream.
     */
    @Test
    void aTruncateOfOnePartitionReachesTheRootsStream(PostgresCluster pg) {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            f.sql("CREATE TABLE m (id int, region text, PRIMARY KEY (id, region)) PARTITION BY LIST (region)",
                    "CREATE TABLE m_a PARTITION OF m FOR VALUES IN ('a')",
                    "CREATE TABLE m_b PARTITION OF m FOR VALUES IN ('b')",
                    "INSERT INTO m VALUES (1, 'a'), (2, 'b')");
            f.capture("public", "m");
            ConnectorRun first = f.read();
            assertThat(first.exitCode()).as(first.toString()).isZero();
            f.sql("TRUNCATE m_a", "INSERT INTO m VALUES (3, 'a')");
            ConnectorRun second = f.read();
            assertThat(second.exitCode()).as(second.toString()).isZero();
            assertThat(ids(second, "m")).containsExactly(3);
            assertThat(second.logs("WARN")).anyMatch(m -> m.contains("TRUNCATE of public.m ") || m.contains("TRUNCATE of public.m,"));
        }
    }

    @Test
    void aPublicationOfTheUsersViaThePartitionRootIsWarnedAboutAtEveryRead(PostgresCluster pg) {
        if (pg.majorVersion() < 13) {
            // Nothing to capture through: PostgreSQL 12 has no such publication option.
            try (CaptureFixture f = new CaptureFixture(pg)) {
                assertThatThrownBy(() -> f.sql("CREATE PUBLICATION p12 FOR ALL TABLES WITH (publish_via_partition_root = true)"))
                        .hasMessageContaining("publish_via_partition_root");
            }
            return;
        }
        try (CaptureFixture f = new CaptureFixture(pg)) {
            f.sql("CREATE TABLE m (id int, region text, PRIMARY KEY (id, region)) PARTITION BY LIST (region)",
                    "CREATE TABLE m_a PARTITION OF m FOR VALUES IN ('a')",
                    "CREATE PUBLICATION " + f.publication + " FOR TABLE m WITH (publish_via_partition_root = true)");
            f.capture("public", "m");
            ConnectorRun run = f.read();
            assertThat(run.exitCode()).as(run.toString()).isZero();
            assertThat(run.logs("WARN")).anyMatch(m -> m.contains("TRUNCATE of a single partition")
                    && m.contains("SET (publish_via_partition_root = false)"));
        }
    }

    /**
     * Changes arrive per partition, each described in the partition's own column order: a partition made apart with
     * its columns in another order and a dropped column, then attached, still gives the root's columns their values.
     */
    @Test
    void aPartitionWithItsColumnsInAnotherOrderAndADroppedColumnGivesTheRootsColumnsTheirValues(PostgresCluster pg) {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            f.sql("CREATE TABLE m (id int, region text, v text, n int, PRIMARY KEY (id, region)) PARTITION BY LIST (region)",
                    "CREATE TABLE m_a PARTITION OF m FOR VALUES IN ('a')",
                    "CREATE TABLE m_z (n int, gone text, v text, region text NOT NULL, id int NOT NULL)",
                    "ALTER TABLE m_z DROP COLUMN gone",
                    "ALTER TABLE m ATTACH PARTITION m_z FOR VALUES IN ('z')",
                    "ALTER TABLE m_z REPLICA IDENTITY FULL",
                    "INSERT INTO m VALUES (1, 'a', 'one', 10)");
            f.capture("public", "m");
            ConnectorRun first = f.read();
            assertThat(first.exitCode()).as(first.toString()).isZero();
            f.sql("INSERT INTO m VALUES (2, 'z', 'two', 20)", "UPDATE m SET v = 'two+', n = 21 WHERE id = 2",
                    "INSERT INTO m_z (id, region, v, n) VALUES (3, 'z', 'three', 30)", "DELETE FROM m WHERE id = 3",
                    "UPDATE m SET region = 'z' WHERE id = 1");
            ConnectorRun second = f.read();
            assertThat(second.exitCode()).as(second.toString()).isZero();
            List<String> changes = second.records().stream().map(r -> r.at("/data/id").asInt() + ":" + r.at("/data/region").asText()
                    + ":" + r.at("/data/v").asText() + ":" + r.at("/data/n").asText() + ":"
                    + !r.at("/data/_ab_cdc_deleted_at").isNull()).toList();
            assertThat(changes).containsExactly("2:z:two:20:false", "2:z:two+:21:false", "3:z:three:30:false",
                    "3:z:three:30:true", "1:a:::true", "1:z:one:10:false"); // m_a's delete: its key only (default identity)
        }
    }

}
