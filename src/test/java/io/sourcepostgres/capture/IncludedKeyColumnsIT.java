package io.sourcepostgres.capture;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcepostgres.testing.AppliedRecords;
import io.sourcepostgres.testing.CaptureFixture;
import io.sourcepostgres.testing.Connector;
import io.sourcepostgres.testing.ConnectorRun;
import io.sourcepostgres.testing.PostgresCluster;
import io.sourcepostgres.testing.PostgresExtension;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code PRIMARY KEY (c1, c2) INCLUDE (c3, c4)}: pg_index.indkey lists all four columns, but only the first
 * indnkeyatts are the key. Discovery must report (c1, c2), and the backfill must scan by (c1, c2) rather
 * than refuse the table because an included column ({@code box}) has no ordering.
 */
@ExtendWith(PostgresExtension.class)
class IncludedKeyColumnsIT {

    @Test
    void theKeyIsTheIndexsKeyColumnsNotItsIncludedOnes(PostgresCluster pg) {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            f.sql("CREATE TABLE inc (c1 int, c2 text, c3 box, c4 int, v int, PRIMARY KEY (c1, c2) INCLUDE (c3, c4))",
                    "INSERT INTO inc SELECT g, 'k' || g, box(point(g, g), point(0, 0)), g, 0 FROM generate_series(1, 5) g");

            JsonNode catalog = Connector.run("discover", "--config", f.configFile().toString()).catalog();
            JsonNode stream = null;
            for (JsonNode s : catalog.get("streams")) {
                if ("inc".equals(s.get("name").asText())) {
                    stream = s;
                }
            }
            assertThat(stream).as("discovered stream inc in %s", catalog).isNotNull();
            assertThat(stream.get("source_defined_primary_key").toString()).isEqualTo("[[\"c1\"],[\"c2\"]]");

            f.capture("public", "inc");
            ConnectorRun first = f.read();
            assertThat(first.exitCode()).as(first.toString()).isZero();
            assertThat(first.records()).hasSize(5);

            f.sql("UPDATE inc SET v = 1, c3 = box(point(9, 9), point(1, 1)) WHERE c1 = 2",
                    "DELETE FROM inc WHERE c1 = 3",
                    "INSERT INTO inc VALUES (6, 'k6', box(point(6, 6), point(0, 0)), 6, 0)");
            ConnectorRun second = f.read();
            assertThat(second.exitCode()).as(second.toString()).isZero();

            List<JsonNode> all = new ArrayList<>(first.records());
            all.addAll(second.records());
            Map<String, JsonNode> applied = AppliedRecords.apply(all,
                    d -> d.get("c1").asText() + "|" + d.get("c2").asText());
            assertThat(applied.keySet()).containsExactly("1|k1", "2|k2", "4|k4", "5|k5", "6|k6");
            assertThat(applied.get("2|k2").get("v").asInt()).isEqualTo(1);
            assertThat(applied.get("2|k2").get("c3").asText()).isEqualTo("(9,9),(1,1)");
        }
    }
}
