package io.sourcepostgres.capture;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcepostgres.testing.CaptureFixture;
import io.sourcepostgres.testing.ConnectorProcess;
import io.sourcepostgres.testing.ConnectorRun;
import io.sourcepostgres.testing.PostgresCluster;
import io.sourcepostgres.testing.PostgresExtension;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A column is added, or a column's type changed, while the real launcher backfills the table: the chunks read
 * after the change carry the new columns, written by the new type's encoder, and every stdout line stays a
 * whole message.
 *
 * <p>No timing decides where the change lands. A transaction that inserted a row is open when the run starts,
 * so the first chunk's high fence waits for it (the backfill never emits a chunk while a transaction that was
 * writing the table when the chunk was read is still open), and the chunks after the first two are read only
 * once it ended. The test alters the table inside that transaction, after the run planned the backfill (its
 * ESTIMATE is out), then commits: every chunk from the third on is read after the change.
 */
@ExtendWith(PostgresExtension.class)
class ShapeChangeDuringBackfillIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(180);
    private static final int ROWS = 5000;
    private static final int CHUNK = 500;

    @Test
    void aColumnAddedDuringTheBackfillIsInTheLaterChunks(PostgresCluster pg) throws Exception {
        ConnectorRun run = alterDuringBackfill(pg, "ALTER TABLE public.shaped ADD COLUMN extra text DEFAULT 'x'");
        List<JsonNode> later = laterBackfilledRows(run);
        assertThat(later).isNotEmpty().allSatisfy(data -> assertThat(data.path("extra").asText()).isEqualTo("x"));
        assertThat(run.ofType("LOG")).anySatisfy(m -> assertThat(m.at("/log/message").asText())
                .contains("The columns of public.shaped changed while it was being backfilled"));
    }

    @Test
    void aColumnWhoseTypeChangedDuringTheBackfillIsWrittenByItsNewEncoder(PostgresCluster pg) throws Exception {
        // int to text: the int encoder cannot read 'v7', and on the old plan failed in the middle of a record.
        ConnectorRun run = alterDuringBackfill(pg, "ALTER TABLE public.shaped ALTER COLUMN n TYPE text USING 'v' || n");
        List<JsonNode> later = laterBackfilledRows(run);
        assertThat(later).isNotEmpty().allSatisfy(data -> assertThat(data.get("n").asText())
                .isEqualTo("v" + data.get("id").asInt() % 97));
    }

    private static ConnectorRun alterDuringBackfill(PostgresCluster pg, String alter) throws Exception {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            f.sql("CREATE TABLE public.shaped (id int PRIMARY KEY, n int)",
                    "INSERT INTO public.shaped SELECT g, g % 97 FROM generate_series(1, " + ROWS + ") g");
            f.capture("public", "shaped");
            f.config().put("backfill_chunk_size", CHUNK);
            f.createPublicationAndSlot();
            try (Connection writer = pg.connect(f.database); Statement st = writer.createStatement()) {
                writer.setAutoCommit(false);
                st.execute("INSERT INTO public.shaped VALUES (" + (ROWS + 1) + ", 1)"); // holds the first fence
                try (ConnectorProcess p = ConnectorProcess.builder(f.args()).start()) {
                    p.await(m -> m.at("/trace/type").asText().equals("ESTIMATE"), TIMEOUT, "ESTIMATE of the backfill");
                    st.execute(alter);
                    writer.commit();
                    ConnectorRun run = p.finish(TIMEOUT); // every stdout line was parsed and validated on the way
                    assertThat(run.exitCode()).as("%s", run).isZero();
                    return run;
                }
            }
        }
    }

    /** The backfilled rows of the chunks read after the change: every chunk from the third on. */
    private static List<JsonNode> laterBackfilledRows(ConnectorRun run) {
        return run.records().stream().map(r -> r.get("data"))
                .filter(d -> d.get("id").asInt() > 2 * CHUNK && d.get("id").asInt() <= ROWS).toList();
    }
}
