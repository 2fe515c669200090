package io.sourcepostgres.capture;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcepostgres.testing.CaptureFixture;
import io.sourcepostgres.testing.ConnectorRun;
import io.sourcepostgres.testing.Destination;
import io.sourcepostgres.testing.Orchestrator;
import io.sourcepostgres.testing.PostgresCluster;
import io.sourcepostgres.testing.PostgresExtension;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Airbyte's column selection with the real launcher: the configured catalog's json_schema lists some of a
 * table's columns, and only those (key columns always, CDC fields too) are emitted, by the backfill and by
 * replication alike — inserts, updates (one that leaves an unselected TOASTed value unchanged) and deletes
 * under REPLICA IDENTITY FULL, whose old row carries every column. The capture role is granted SELECT on
 * the selected columns only, so a query that so much as names another column fails the run: the unselected
 * values never leave the database through a query.
 */
@ExtendWith(PostgresExtension.class)
class SelectedColumnsIT {
    private static final Duration RUN = Duration.ofSeconds(120);

    @Test
    void onlySelectedColumnsAreReadAndEmittedByBackfillAndReplication(PostgresCluster pg) {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            String role = "picky_" + UUID.randomUUID().toString().substring(0, 8);
            f.sql("CREATE TABLE public.people (id int PRIMARY KEY, name text, ssn text, notes text)",
                    "ALTER TABLE public.people REPLICA IDENTITY FULL",
                    "CREATE TABLE public.docs (id int PRIMARY KEY, title text, secret text)",
                    "INSERT INTO public.people SELECT g, 'name' || g, 'ssn-' || g, 'note' || g FROM generate_series(1, 120) g",
                    "INSERT INTO public.docs SELECT g, 'title' || g, (SELECT string_agg(md5(g::text || x::text), '') "
                            + "FROM generate_series(1, 400) x) FROM generate_series(1, 30) g",
                    "CREATE ROLE " + role + " LOGIN REPLICATION PASSWORD 'pw'",
                    "GRANT SELECT (id, name) ON public.people TO " + role,
                    "GRANT SELECT (id, title) ON public.docs TO " + role);
            f.createPublicationAndSlot();
            f.config().put("connectionURI", pg.uri(role, "pw", f.database));
            f.config().put("backfill_chunk_size", 40);
            f.capture("public", "people").capture("public", "docs");
            ObjectNode catalog = f.catalog().deepCopy();
            select(catalog, "people", "name");  // id is the key: read and emitted without being listed
            select(catalog, "docs", "id", "title");
            CaptureFixture.Catalog.set(f, catalog);
            Destination destination = new Destination(pg, pg.createDatabase("dest"));
            destination.createTable("public.people", "id int PRIMARY KEY, name text");
            destination.createTable("public.docs", "id int PRIMARY KEY, title text");
            Orchestrator orchestrator = new Orchestrator(f, destination, Map.of("people", List.of("id"), "docs", List.of("id")));

            ConnectorRun backfill = orchestrator.run(RUN);
            assertThat(backfill.records()).hasSize(150);
            assertOnlySelected(backfill);
            assertEqual(pg, f, destination);

            f.sql("UPDATE public.people SET name = 'renamed' WHERE id <= 3",
                    "UPDATE public.people SET ssn = 'changed' WHERE id = 4",
                    "DELETE FROM public.people WHERE id BETWEEN 10 AND 12",
                    "INSERT INTO public.people VALUES (500, 'newcomer', 'ssn-500', 'n')",
                    "UPDATE public.docs SET title = 'retitled' WHERE id <= 5", // secret: unchanged, TOASTed, unselected
                    "DELETE FROM public.docs WHERE id = 30");
            ConnectorRun changes = orchestrator.run(RUN);
            assertThat(changes.records()).hasSize(3 + 1 + 3 + 1 + 5 + 1);
            assertOnlySelected(changes);
            assertThat(changes.records().stream().filter(r -> !r.at("/data/_ab_cdc_deleted_at").isNull()))
                    .as("deletes of the FULL identity table carry the old row, minus its unselected columns")
                    .hasSize(4);
            assertEqual(pg, f, destination);
        }
    }

    private static void select(ObjectNode catalog, String stream, String... columns) {
        for (JsonNode s : catalog.get("streams")) {
            if (s.at("/stream/name").asText().equals(stream)) {
                ObjectNode properties = ((ObjectNode) s.get("stream").get("json_schema")).putObject("properties");
                for (String c : columns) {
                    properties.putObject(c);
                }
                properties.putObject("_ab_cdc_lsn").put("type", "number");
            }
        }
    }

    private static void assertOnlySelected(ConnectorRun run) {
        for (JsonNode r : run.records()) {
            List<String> fields = new ArrayList<>();
            r.get("data").fieldNames().forEachRemaining(fields::add);
            Set<String> allowed = r.get("stream").asText().equals("people")
                    ? Set.of("id", "name", "_ab_cdc_lsn", "_ab_cdc_updated_at", "_ab_cdc_deleted_at")
                    : Set.of("id", "title", "_ab_cdc_lsn", "_ab_cdc_updated_at", "_ab_cdc_deleted_at");
            assertThat(allowed).as("fields of %s", r).containsAll(fields);
            assertThat(fields).contains("id", "_ab_cdc_lsn");
        }
        assertThat(run.stdout()).doesNotContain("ssn-").doesNotContain("note1");
    }

    private static void assertEqual(PostgresCluster pg, CaptureFixture f, Destination destination) {
        assertThat(destination.rows("public.people"))
                .isEqualTo(Destination.rows(pg, f.database, "(SELECT id, name FROM public.people)"));
        assertThat(destination.rows("public.docs"))
                .isEqualTo(Destination.rows(pg, f.database, "(SELECT id, title FROM public.docs)"));
    }
}
