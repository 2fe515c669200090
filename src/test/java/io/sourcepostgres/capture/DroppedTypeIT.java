package io.sourcepostgres.capture;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcepostgres.testing.CaptureFixture;
import io.sourcepostgres.testing.ConnectorRun;
import io.sourcepostgres.testing.PostgresCluster;
import io.sourcepostgres.testing.PostgresExtension;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A column's type replaced and dropped after changes of that type were written to the WAL (a routine enum
 * migration): replication decodes those changes with the catalog as of their writing, so the walsender sends
 * the dropped type's oid and the value's text. Every run must keep streaming (the value as text) and say what
 * happened, naming the table and the column, instead of failing with "type N is not in pg_type".
 */
@ExtendWith(PostgresExtension.class)
class DroppedTypeIT {

    @Test
    void changesWrittenWithATypeDroppedSinceAreStreamedAsTextWithAWarning(PostgresCluster pg) {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            f.sql("CREATE TYPE status_v1 AS ENUM ('new', 'done')",
                    "CREATE TABLE orders (id int PRIMARY KEY, status status_v1 NOT NULL)",
                    "INSERT INTO orders VALUES (1, 'new'), (2, 'new')");
            f.capture("public", "orders");
            ConnectorRun backfill = f.launch(120);
            assertThat(backfill.exitCode()).as(backfill.toString()).isZero();
            JsonNode before = f.state();

            f.sql("UPDATE orders SET status = 'done' WHERE id = 1",
                    "CREATE TYPE status_v2 AS ENUM ('new', 'done', 'archived')",
                    "ALTER TABLE orders ALTER COLUMN status TYPE status_v2 USING status::text::status_v2",
                    "DROP TYPE status_v1",
                    "UPDATE orders SET status = 'archived' WHERE id = 2");

            // Every run from the state taken before streams both changes, not just the first.
            for (int run = 1; run <= 2; run++) {
                f.setState(before);
                ConnectorRun read = f.launch(120);
                assertThat(read.exitCode()).as("run %d: %s", run, read).isZero();
                List<JsonNode> records = read.records();
                assertThat(records).extracting(r -> r.at("/data/id").asInt() + "=" + r.at("/data/status").asText())
                        .containsExactly("1=done", "2=archived");
                List<String> warnings = read.ofType("LOG").stream()
                        .filter(m -> "WARN".equals(m.at("/log/level").asText())).map(m -> m.at("/log/message").asText())
                        .filter(m -> m.contains("dropped")).toList();
                assertThat(warnings).as("run %d: %s", run, read).hasSize(1);
                assertThat(warnings.get(0)).contains("\"status\"", "public", "orders", "status_v1");
            }
        }
    }
}
