package io.sourcepostgres.capture;

import static org.assertj.core.api.Assertions.assertThat;

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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * TRUNCATE with the real launcher. What a destination that upserts and deletes gets, exactly:
 * <ul>
 *   <li>with the README's BEFORE TRUNCATE trigger, every removed row as a delete record: exact;
 *   <li>with {@code truncate_handling: rebackfill}, the stream's backfill starts over (its rows after the
 *       truncate are emitted again) and a WARN says the removed rows stay downstream until the stream is
 *       cleared there; cleared (Airbyte's refresh: destination emptied, stream_state null), it is exact.
 * </ul>
 */
@ExtendWith(PostgresExtension.class)
class TruncateIT {
    private static final Duration RUN = Duration.ofSeconds(120);

    @Test
    void aTruncateMadeOfDeletesByTheReadmeTriggerIsCapturedExactly(PostgresCluster pg) {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            Destination destination = new Destination(pg, pg.createDatabase("dest"));
            Orchestrator orchestrator = table(f, destination);
            f.sql("CREATE FUNCTION public.source_postgres_truncate_as_delete() RETURNS trigger LANGUAGE plpgsql AS $$ "
                            + "BEGIN EXECUTE format('DELETE FROM %I.%I', TG_TABLE_SCHEMA, TG_TABLE_NAME); RETURN NULL; END $$",
                    "CREATE TRIGGER source_postgres_truncate_as_delete BEFORE TRUNCATE ON public.t "
                            + "FOR EACH STATEMENT EXECUTE FUNCTION public.source_postgres_truncate_as_delete()");
            orchestrator.run(RUN);
            f.sql("TRUNCATE public.t", "INSERT INTO public.t SELECT g, 'after' FROM generate_series(1, 10) g");
            ConnectorRun run = orchestrator.run(RUN);
            assertThat(run.records().stream().filter(r -> !r.at("/data/_ab_cdc_deleted_at").isNull())).hasSize(100);
            assertThat(TableIdentityIT.warnings(run)).noneMatch(w -> w.contains("TRUNCATE"));
            assertThat(run.ofType("LOG").stream().map(m -> m.at("/log/message").asText()))
                    .anyMatch(m -> m.contains("TRUNCATE of public.t") && m.contains("deleted the rows first"));
            orchestrator.assertDestinationEqualsSource("public.t");
        }
    }

    @Test
    void rebackfillStartsTheStreamOverAndSaysWhatTheDestinationKeeps(PostgresCluster pg) {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            Destination destination = new Destination(pg, pg.createDatabase("dest"));
            Orchestrator orchestrator = table(f, destination);
            f.config().put("truncate_handling", "rebackfill");
            orchestrator.run(RUN);
            f.sql("TRUNCATE public.t", "INSERT INTO public.t SELECT g, 'after' FROM generate_series(1, 10) g",
                    "UPDATE public.other SET v = 'x' WHERE id = 1");
            ConnectorRun second = orchestrator.run(RUN);
            assertThat(TableIdentityIT.warnings(second)).anyMatch(w -> w.contains("TRUNCATE of public.t")
                    && w.contains("backfills start over") && w.contains("stay in a destination"));
            assertThat(second.records().stream().filter(r -> r.get("stream").asText().equals("t")))
                    .as("10 inserts replicated, then the same 10 rows backfilled again").hasSize(20);
            assertThat(second.records().stream().filter(r -> r.get("stream").asText().equals("other"))).hasSize(1);
            assertThat(StateEdits.streamState(f.state(), "t").path("phase").asText()).isEqualTo("active");
            assertThat(destination.rows("public.t")).as("the truncated rows 11..100 are still downstream").hasSize(100);

            // The fix the WARN names: clear the stream downstream and reset it.
            pg.execute(destination.database(), "TRUNCATE public.t");
            f.setState(StateEdits.nullStreamState(f.state(), "t"));
            orchestrator.run(RUN);
            orchestrator.assertDestinationEqualsSource("public.t", "public.other");
        }
    }

    private static Orchestrator table(CaptureFixture f, Destination destination) {
        for (String t : List.of("t", "other")) {
            f.sql("CREATE TABLE public." + t + " (id int PRIMARY KEY, v text)",
                    "INSERT INTO public." + t + " SELECT g, 'v' || g FROM generate_series(1, 100) g");
            destination.createTable("public." + t, "id int PRIMARY KEY, v text");
            f.capture("public", t);
        }
        f.config().put("backfill_chunk_size", 30);
        return new Orchestrator(f, destination, Map.of("t", List.of("id"), "other", List.of("id")));
    }
}
