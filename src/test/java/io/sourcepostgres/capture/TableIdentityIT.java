package io.sourcepostgres.capture;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcepostgres.testing.CaptureFixture;
import io.sourcepostgres.testing.ConnectorProcess;
import io.sourcepostgres.testing.ConnectorRun;
import io.sourcepostgres.testing.Destination;
import io.sourcepostgres.testing.Orchestrator;
import io.sourcepostgres.testing.PostgresCluster;
import io.sourcepostgres.testing.PostgresExtension;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What changes the table behind a stream, with the real launcher: a table that leaves the publication and is
 * added back (its writes in between were never published), a table replaced by another of the same name
 * (another relation oid), and a table renamed while captured. Each is detected — between runs from the
 * relation oid and publication membership the state records, during a run from pgoutput's Relation
 * messages — and the stream's backfill starts over (or, for a rename, a WARN says what to do), so that the
 * destination is brought back to the source.
 */
@ExtendWith(PostgresExtension.class)
class TableIdentityIT {
    private static final Duration RUN = Duration.ofSeconds(120);

    @Test
    void writesMadeWhileATableWasOutOfThePublicationAreRecoveredByTheNextRun(PostgresCluster pg) {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            Destination destination = new Destination(pg, pg.createDatabase("dest"));
            Orchestrator orchestrator = tables(f, destination, "r", "other");
            f.sql("CREATE PUBLICATION " + f.publication + " FOR TABLE public.r, public.other",
                    "SELECT pg_create_logical_replication_slot('" + f.slot + "', 'pgoutput')");
            orchestrator.run(RUN);
            orchestrator.assertDestinationEqualsSource("public.r", "public.other");

            f.sql("ALTER PUBLICATION " + f.publication + " DROP TABLE public.r",
                    "INSERT INTO public.r SELECT g, 'in the gap' FROM generate_series(101, 110) g",
                    "UPDATE public.r SET v = 'updated in the gap' WHERE id <= 3",
                    "ALTER PUBLICATION " + f.publication + " ADD TABLE public.r",
                    "INSERT INTO public.r VALUES (111, 'after')", "UPDATE public.other SET v = 'x' WHERE id = 1");
            ConnectorRun second = orchestrator.run(RUN);
            assertThat(warnings(second)).anyMatch(w -> w.contains("public.r") && w.contains("left publication"));
            assertThat(second.records().stream().filter(r -> r.get("stream").asText().equals("other")))
                    .as("the other stream keeps streaming").hasSize(1);
            orchestrator.assertDestinationEqualsSource("public.r", "public.other");
            assertThat(orchestrator.run(RUN).records()).isEmpty();
        }
    }

    @Test
    void aTableSwappedInUnderTheNameIsBackfilledAgain(PostgresCluster pg) {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            Destination destination = new Destination(pg, pg.createDatabase("dest"));
            Orchestrator orchestrator = tables(f, destination, "d");
            // The swap of a bulk load: a new table, filled before (here: before the slot existed), takes the
            // old one's name. None of its rows is in the replication stream.
            f.sql("CREATE TABLE public.d_new (id int PRIMARY KEY, v text)",
                    "INSERT INTO public.d_new SELECT g, 'reloaded' FROM generate_series(1, 150) g");
            f.createPublicationAndSlot();
            orchestrator.run(RUN);

            f.sql("ALTER TABLE public.d RENAME TO d_old", "ALTER TABLE public.d_new RENAME TO d", "DROP TABLE public.d_old");
            ConnectorRun second = orchestrator.run(RUN);
            assertThat(warnings(second)).anyMatch(w -> w.contains("public.d") && w.contains("dropped and recreated"));
            assertThat(second.records().stream().filter(r -> r.at("/data/v").asText().equals("reloaded")))
                    .as("every row of the new table is emitted").hasSize(150);
            orchestrator.assertDestinationEqualsSource("public.d");
            assertThat(orchestrator.run(RUN).records()).isEmpty();
        }
    }

    @Test
    void changesToTheTableBehindAStreamWhileItIsCapturedAreDetected(PostgresCluster pg) {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            Destination destination = new Destination(pg, pg.createDatabase("dest"));
            Orchestrator orchestrator = tables(f, destination, "r", "d", "n");
            f.sql("DELETE FROM public.d WHERE id > 5",
                    "CREATE PUBLICATION " + f.publication + " FOR TABLE public.r, public.d, public.n",
                    "SELECT pg_create_logical_replication_slot('" + f.slot + "', 'pgoutput')");
            f.config().put("tail", true);
            try (ConnectorProcess p = orchestrator.start()) {
                p.await(m -> allActive(m, 3), RUN, "a STATE with every backfill complete");
                f.sql("ALTER PUBLICATION " + f.publication + " DROP TABLE public.r",
                        "INSERT INTO public.r SELECT g, 'in the gap' FROM generate_series(101, 110) g",
                        "ALTER PUBLICATION " + f.publication + " ADD TABLE public.r",
                        "INSERT INTO public.r VALUES (111, 'after')");
                f.sql("DROP TABLE public.d", "CREATE TABLE public.d (id int PRIMARY KEY, v text)",
                        "INSERT INTO public.d SELECT g, 'new' FROM generate_series(1, 6) g",
                        "ALTER PUBLICATION " + f.publication + " ADD TABLE public.d",
                        "INSERT INTO public.d VALUES (7, 'new')");
                f.sql("ALTER TABLE public.n RENAME TO n2", "INSERT INTO public.n2 VALUES (101, 'renamed')");
                p.await(m -> warning(m, "public.r", "left publication"), RUN, "a WARN that r rejoined the publication");
                p.await(m -> warning(m, "public.d", "dropped and recreated"), RUN, "a WARN that d was recreated");
                p.await(m -> warning(m, "public.n", "renamed to public.n2"), RUN, "a WARN that n was renamed");
                f.sql("INSERT INTO public.r VALUES (999, 'marker')");
                boolean[] marker = {false};
                p.await(m -> {
                    marker[0] |= m.path("type").asText().equals("RECORD") && m.at("/record/data/id").asInt() == 999;
                    return marker[0] && allActive(m, 3);
                }, RUN, "a STATE with the new backfills complete");
                p.terminate();
                orchestrator.accept(p.finish(RUN));
            }
            f.sql("ALTER TABLE public.n2 RENAME TO n");
            orchestrator.assertDestinationEqualsSource("public.r", "public.d", "public.n");
        }
    }

    private static boolean warning(JsonNode m, String table, String text) {
        String message = m.at("/log/message").asText();
        return m.at("/log/level").asText().equals("WARN") && message.contains(table) && message.contains(text);
    }

    private static boolean allActive(JsonNode m, int streams) {
        if (!m.path("type").asText().equals("STATE")) {
            return false;
        }
        JsonNode list = m.at("/state/global/stream_states");
        if (list.size() != streams) {
            return false;
        }
        for (JsonNode s : list) {
            if (!s.at("/stream_state/phase").asText().equals("active")) {
                return false;
            }
        }
        return true;
    }

    private static Orchestrator tables(CaptureFixture f, Destination destination, String... names) {
        Map<String, List<String>> keys = new java.util.HashMap<>();
        for (String t : names) {
            f.sql("CREATE TABLE public." + t + " (id int PRIMARY KEY, v text)",
                    "INSERT INTO public." + t + " SELECT g, 'v' || g FROM generate_series(1, 100) g");
            destination.createTable("public." + t, "id int PRIMARY KEY, v text");
            f.capture("public", t);
            keys.put(t, List.of("id"));
        }
        f.config().put("backfill_chunk_size", 30);
        return new Orchestrator(f, destination, keys);
    }

    static List<String> warnings(ConnectorRun run) {
        return run.ofType("LOG").stream().map(m -> m.get("log")).filter(l -> l.path("level").asText().equals("WARN"))
                .map(l -> l.path("message").asText()).toList();
    }
}
