package io.sourcepostgres.capture;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcepostgres.testing.CaptureFixture;
import io.sourcepostgres.testing.ConnectorRun;
import io.sourcepostgres.testing.Destination;
import io.sourcepostgres.testing.Orchestrator;
import io.sourcepostgres.testing.PostgresCluster;
import io.sourcepostgres.testing.PostgresExtension;
import io.sourcepostgres.testing.StateEdits;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Airbyte's per-stream reset with the real launcher: the orchestrator clears one stream downstream and
 * passes its {@code stream_state} as null (or drops its entry); that stream is backfilled again in full
 * while the others continue exactly from the shared position. A stream added to the catalog is backfilled
 * the same way. After each run the destination equals the source.
 */
@ExtendWith(PostgresExtension.class)
class StreamResetIT {
    private static final Duration RUN = Duration.ofSeconds(120);

    @Test
    void aResetStreamIsBackfilledAgainWhileTheOthersKeepStreaming(PostgresCluster pg) {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            Destination destination = new Destination(pg, pg.createDatabase("dest"));
            for (String t : List.of("a", "b", "c")) {
                f.sql("CREATE TABLE public." + t + " (id int PRIMARY KEY, v text)");
                destination.createTable("public." + t, "id int PRIMARY KEY, v text");
            }
            f.sql("INSERT INTO public.a SELECT g, 'a' || g FROM generate_series(1, 300) g",
                    "INSERT INTO public.b SELECT g, 'b' || g FROM generate_series(1, 200) g",
                    "INSERT INTO public.c SELECT g, 'c' || g FROM generate_series(1, 120) g");
            f.config().put("backfill_chunk_size", 50);
            f.capture("public", "a").capture("public", "b");
            Orchestrator orchestrator = new Orchestrator(f, destination,
                    Map.of("a", List.of("id"), "b", List.of("id"), "c", List.of("id")));

            ConnectorRun first = orchestrator.run(RUN);
            assertThat(first.records()).hasSize(500);
            orchestrator.assertDestinationEqualsSource("public.a", "public.b");

            // Reset b: cleared downstream, its stream_state null. Both tables change meanwhile.
            f.sql("UPDATE public.a SET v = 'changed' WHERE id <= 10", "DELETE FROM public.b WHERE id > 190",
                    "INSERT INTO public.b VALUES (500, 'new')", "UPDATE public.b SET v = 'changed' WHERE id <= 5");
            f.setState(StateEdits.nullStreamState(f.state(), "b"));
            pg.execute(destination.database(), "TRUNCATE public.b");
            ConnectorRun second = orchestrator.run(RUN);
            assertThat(second.exitCode()).isZero();
            assertThat(upserted(second, "a")).as("a continues from the shared position: only its 10 updates")
                    .hasSize(10).allMatch(r -> r.at("/data/v").asText().equals("changed"));
            assertThat(ids(second, "b")).as("b is emitted again in full").containsAll(ids(f, "public.b"));
            assertThat(second.states().get(second.states().size() - 1).toString()).contains("\"name\":\"b\"");
            assertThat(StateEdits.streamState(f.state(), "b").path("phase").asText()).isEqualTo("active");
            orchestrator.assertDestinationEqualsSource("public.a", "public.b");

            // The same reset, expressed by leaving b's entry out of stream_states.
            f.sql("UPDATE public.a SET v = 'again' WHERE id = 300", "INSERT INTO public.b VALUES (501, 'newer')");
            f.setState(StateEdits.withoutStream(f.state(), "b"));
            pg.execute(destination.database(), "TRUNCATE public.b");
            ConnectorRun third = orchestrator.run(RUN);
            assertThat(upserted(third, "a")).hasSize(1);
            assertThat(ids(third, "b")).containsAll(ids(f, "public.b"));
            orchestrator.assertDestinationEqualsSource("public.a", "public.b");

            // A stream newly added to the catalog is backfilled; the others only stream.
            f.capture("public", "c");
            f.sql("DELETE FROM public.c WHERE id = 7", "UPDATE public.b SET v = 'last' WHERE id = 1");
            ConnectorRun fourth = orchestrator.run(RUN);
            assertThat(upserted(fourth, "a")).isEmpty();
            assertThat(upserted(fourth, "b")).hasSize(1);
            assertThat(ids(fourth, "c")).containsAll(ids(f, "public.c")).hasSize(119);
            orchestrator.assertDestinationEqualsSource("public.a", "public.b", "public.c");

            // Nothing new: nothing emitted.
            assertThat(orchestrator.run(RUN).records()).isEmpty();
        }
    }

    private static List<JsonNode> upserted(ConnectorRun run, String stream) {
        return run.records().stream().filter(r -> r.get("stream").asText().equals(stream))
                .filter(r -> r.at("/data/_ab_cdc_deleted_at").isNull()).toList();
    }

    private static Set<Integer> ids(ConnectorRun run, String stream) {
        Set<Integer> ids = new TreeSet<>();
        upserted(run, stream).forEach(r -> ids.add(r.at("/data/id").asInt()));
        return ids;
    }

    private static Set<Integer> ids(CaptureFixture f, String table) {
        Set<Integer> ids = new TreeSet<>();
        for (String id : f.scalar("SELECT string_agg(id::text, ',') FROM " + table).split(",")) {
            ids.add(Integer.parseInt(id));
        }
        return ids;
    }
}
