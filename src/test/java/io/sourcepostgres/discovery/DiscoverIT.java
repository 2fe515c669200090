package io.sourcepostgres.discovery;

import static io.sourcepostgres.discovery.DiscoverRuns.config;
import static io.sourcepostgres.discovery.DiscoverRuns.description;
import static io.sourcepostgres.discovery.DiscoverRuns.discover;
import static io.sourcepostgres.discovery.DiscoverRuns.discoverRun;
import static io.sourcepostgres.discovery.DiscoverRuns.ids;
import static io.sourcepostgres.discovery.DiscoverRuns.primaryKey;
import static io.sourcepostgres.discovery.DiscoverRuns.propertyNames;
import static io.sourcepostgres.discovery.DiscoverRuns.stream;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcepostgres.testing.ConnectorRun;
import io.sourcepostgres.testing.PostgresCluster;
import io.sourcepostgres.testing.PostgresExtension;
import java.sql.Connection;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * discover end to end: which relations become streams, their names exactly as PostgreSQL spells them,
 * keys, nullability, partitioned tables, and the descriptions that say why a table would not be captured.
 */
@ExtendWith(PostgresExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DiscoverIT {
    private static final String LONG_ASCII = "a".repeat(63);
    private static final String LONG_SCHEMA = "s".repeat(63);
    /** 21 three-byte characters: exactly PostgreSQL's 63-byte identifier limit. */
    private static final String LONG_CJK = "日".repeat(21);
    private static final String ODD_SCHEMA = "Sch \"ema\" 日本";

    private PostgresCluster pg;
    private String database;
    private String role;
    private JsonNode catalog;

    @BeforeAll
    void createTheDatabase(PostgresCluster pg) throws Exception {
        this.pg = pg;
        database = pg.createDatabase("discover");
        role = "reader_" + database.substring(database.length() - 10);
        boolean partitionedTablesPublishable = pg.majorVersion() >= 13;
        pg.execute(database,
                "CREATE SCHEMA \"order\"",
                "CREATE SCHEMA \"Sch \"\"ema\"\" 日本\"",
                "CREATE SCHEMA \"" + LONG_SCHEMA + "\"",
                "CREATE SCHEMA hidden",
                "CREATE TABLE \"MixedCase\" (id int PRIMARY KEY)",
                "CREATE TABLE mixedcase (id int PRIMARY KEY)",
                "CREATE TABLE \"with space\" (id int PRIMARY KEY)",
                "CREATE TABLE \"Weird \"\"Name\"\"\" (\"Quoted \"\"col\"\"\" int PRIMARY KEY, \"with space\" text)",
                "CREATE TABLE \"order\".\"select\" (\"from\" int PRIMARY KEY, \"where\" text)",
                "CREATE TABLE \"café\" (\"日本\" text PRIMARY KEY)",
                "CREATE TABLE \"Sch \"\"ema\"\" 日本\".\"日本\" (id int PRIMARY KEY)",
                "CREATE TABLE \"" + LONG_ASCII + "\" (\"" + LONG_CJK + "\" int PRIMARY KEY)",
                "CREATE TABLE \"" + LONG_CJK + "\" (id int PRIMARY KEY)",
                "CREATE TABLE \"" + LONG_SCHEMA + "\".t (id int PRIMARY KEY)",
                // keys in an order different from the columns', a dropped column, NOT NULL without a key
                "CREATE TABLE keyed (a int, b text, c int, d int NOT NULL, PRIMARY KEY (c, a))",
                "ALTER TABLE keyed ADD COLUMN gone int",
                "ALTER TABLE keyed DROP COLUMN gone",
                "ALTER TABLE keyed ADD COLUMN e text",
                "CREATE TABLE keyless (x int, y text NOT NULL)",
                // partitioned tables: the root is the stream, partitions at any depth are not
                "CREATE TABLE events (id int, at date, PRIMARY KEY (id, at)) PARTITION BY RANGE (at)",
                "CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')",
                "CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01') "
                        + "PARTITION BY RANGE (at)",
                "CREATE TABLE events_2025_h1 PARTITION OF events_2025 FOR VALUES FROM ('2025-01-01') TO ('2025-07-01')",
                "CREATE TABLE events_default PARTITION OF events DEFAULT",
                "CREATE TABLE logs (id int, kind text, PRIMARY KEY (id, kind)) PARTITION BY LIST (kind)",
                "CREATE TABLE logs_a PARTITION OF logs FOR VALUES IN ('a')",
                "CREATE TABLE logs_b PARTITION OF logs FOR VALUES IN ('b')",
                // relations that are not streams
                "CREATE VIEW a_view AS SELECT 1 AS x",
                "CREATE MATERIALIZED VIEW a_matview AS SELECT 1 AS x",
                "CREATE EXTENSION file_fdw",
                "CREATE SERVER files FOREIGN DATA WRAPPER file_fdw",
                "CREATE FOREIGN TABLE a_foreign_table (x int) SERVER files OPTIONS (filename '/dev/null')",
                "CREATE SEQUENCE a_sequence",
                "CREATE TYPE a_composite AS (x int)",
                // tables with something to say
                "CREATE UNLOGGED TABLE scratch (id int PRIMARY KEY)",
                "CREATE TABLE clash (id int PRIMARY KEY, _ab_cdc_lsn text)",
                "CREATE TABLE secret (id int PRIMARY KEY)",
                "CREATE TABLE hidden.stuff (id int PRIMARY KEY)",
                "CREATE PUBLICATION flow_publication FOR TABLE \"MixedCase\", keyed, \"order\".\"select\", logs_a, "
                        + (partitionedTablesPublishable ? "events" : "events_2024, events_2025_h1, events_default"),
                "CREATE PUBLICATION all_tables FOR ALL TABLES",
                // PostgreSQL 12 and 13 store md5 by default, which the harness's scram-only pg_hba.conf refuses
                "SET password_encryption = 'scram-sha-256'",
                "CREATE ROLE " + role + " LOGIN PASSWORD 'reader-pw'",
                "GRANT USAGE ON SCHEMA \"order\", \"Sch \"\"ema\"\" 日本\", \"" + LONG_SCHEMA + "\" TO " + role,
                "GRANT SELECT ON ALL TABLES IN SCHEMA public, \"order\", \"Sch \"\"ema\"\" 日本\", \"" + LONG_SCHEMA
                        + "\" TO " + role,
                "REVOKE SELECT ON secret FROM " + role);
        // Another session's temporary table lives in a pg_temp_N schema: not a stream.
        try (Connection other = pg.connect(database); Statement st = other.createStatement()) {
            st.execute("CREATE TEMP TABLE a_temp_table (id int PRIMARY KEY)");
            catalog = discover(pg, database);
        }
    }

    @AfterAll
    void dropTheRole() {
        pg.execute(database, "DROP OWNED BY " + role);
        pg.execute("postgres", "DROP ROLE " + role);
    }

    @Test
    void oneStreamPerTableAndPartitionedTableNamedExactlyAsPostgresSpellsThemSortedByNamespaceThenName() {
        assertThat(ids(catalog)).containsExactly(
                ODD_SCHEMA + ".日本",
                "hidden.stuff",
                "order.select",
                "public.MixedCase",
                "public.Weird \"Name\"",
                "public." + LONG_ASCII,
                "public.café",
                "public.clash",
                "public.events",
                "public.keyed",
                "public.keyless",
                "public.logs",
                "public.mixedcase",
                "public.scratch",
                "public.secret",
                "public.with space",
                "public." + LONG_CJK,
                LONG_SCHEMA + ".t");
    }

    @Test
    void columnNamesAreExactToo() {
        assertThat(propertyNames(stream(catalog, "public", "Weird \"Name\"")))
                .startsWith("Quoted \"col\"", "with space");
        assertThat(propertyNames(stream(catalog, "order", "select"))).startsWith("from", "where");
        assertThat(propertyNames(stream(catalog, "public", "café"))).startsWith("日本");
        assertThat(primaryKey(stream(catalog, "public", LONG_ASCII))).containsExactly(List.of(LONG_CJK));
    }

    @Test
    void everyStreamOffersBothSyncModesWithTheLsnAsSourceDefinedCursor() {
        for (JsonNode s : catalog.get("streams")) {
            assertThat(s.get("supported_sync_modes")).isEqualTo(DiscoverRuns.json("[\"full_refresh\",\"incremental\"]"));
            assertThat(s.get("source_defined_cursor").asBoolean()).isTrue();
            assertThat(s.get("default_cursor_field")).isEqualTo(DiscoverRuns.json("[\"_ab_cdc_lsn\"]"));
            assertThat(s.get("is_resumable").asBoolean()).isTrue();
            assertThat(s.get("json_schema").get("type").asText()).isEqualTo("object");
            assertThat(propertyNames(s)).endsWith(CdcFields.NAMES.toArray(String[]::new));
        }
    }

    @Test
    void primaryKeysComeInKeyOrderAndKeylessTablesHaveNone() {
        assertThat(primaryKey(stream(catalog, "public", "keyed"))).containsExactly(List.of("c"), List.of("a"));
        assertThat(primaryKey(stream(catalog, "public", "events"))).containsExactly(List.of("id"), List.of("at"));
        assertThat(primaryKey(stream(catalog, "public", "Weird \"Name\""))).containsExactly(List.of("Quoted \"col\""));
        JsonNode keyless = stream(catalog, "public", "keyless");
        assertThat(keyless.has("source_defined_primary_key")).as("no key: the field is left out").isFalse();
        assertThat(description(keyless)).contains("No primary key").contains("append-only history")
                .contains("REPLICA IDENTITY FULL").contains("ALTER TABLE \"public\".\"keyless\" ADD PRIMARY KEY");
    }

    @Test
    void notNullColumnsHaveTheBareTypeAndOthersAddNullWhileDroppedColumnsAreGone() {
        JsonNode keyed = stream(catalog, "public", "keyed").get("json_schema").get("properties");
        assertThat(propertyNames(stream(catalog, "public", "keyed")))
                .containsExactly("a", "b", "c", "d", "e", "_ab_cdc_lsn", "_ab_cdc_updated_at", "_ab_cdc_deleted_at");
        assertThat(keyed.get("a")).isEqualTo(DiscoverRuns.json("{\"type\":\"integer\"}"));
        assertThat(keyed.get("b")).isEqualTo(DiscoverRuns.json("{\"type\":[\"string\",\"null\"]}"));
        assertThat(keyed.get("c")).isEqualTo(DiscoverRuns.json("{\"type\":\"integer\"}"));
        assertThat(keyed.get("d")).isEqualTo(DiscoverRuns.json("{\"type\":\"integer\"}"));
        assertThat(keyed.get("e")).isEqualTo(DiscoverRuns.json("{\"type\":[\"string\",\"null\"]}"));
        JsonNode keyless = stream(catalog, "public", "keyless").get("json_schema").get("properties");
        assertThat(keyless.get("x")).isEqualTo(DiscoverRuns.json("{\"type\":[\"integer\",\"null\"]}"));
        assertThat(keyless.get("y")).isEqualTo(DiscoverRuns.json("{\"type\":\"string\"}"));
    }

    @Test
    void viewsMatviewsForeignTablesSequencesPartitionsTempAndSystemTablesAreNotStreams() {
        List<String> ids = ids(catalog);
        for (String name : List.of("a_view", "a_matview", "a_foreign_table", "a_sequence", "a_composite", "a_temp_table",
                "events_2024", "events_2025", "events_2025_h1", "events_default", "logs_a", "logs_b")) {
            assertThat(ids).noneMatch(id -> id.endsWith("." + name));
        }
        assertThat(ids).noneMatch(id -> id.startsWith("pg_") || id.startsWith("information_schema."));
    }

    @Test
    void publishedTablesHaveNoDescription() {
        for (String name : List.of("MixedCase", "keyed", "events")) {
            assertThat(description(stream(catalog, "public", name))).as(name).isEmpty();
        }
        assertThat(description(stream(catalog, "order", "select"))).isEmpty();
    }

    @Test
    void aTableOutsideThePublicationIsListedAndItsDescriptionSaysSoWithTheFix() {
        assertThat(description(stream(catalog, "public", "with space"))).isEqualTo(
                "Not in publication \"flow_publication\": its changes are not captured. "
                        + "Run ALTER PUBLICATION \"flow_publication\" ADD TABLE \"public\".\"with space\";");
        assertThat(description(stream(catalog, "public", "Weird \"Name\""))).isEqualTo(
                "Not in publication \"flow_publication\": its changes are not captured. "
                        + "Run ALTER PUBLICATION \"flow_publication\" ADD TABLE \"public\".\"Weird \"\"Name\"\"\";");
    }

    @Test
    void aPartitionedTableWithSomePartitionsOutsideThePublicationNamesThem() {
        String logs = description(stream(catalog, "public", "logs"));
        assertThat(logs).startsWith("Partition \"public\".\"logs_b\" of this table is not in publication "
                + "\"flow_publication\": its changes are not captured.");
        assertThat(logs).doesNotContain("logs_a");
        if (pg.majorVersion() >= 13) {
            assertThat(logs).contains("Run ALTER PUBLICATION \"flow_publication\" ADD TABLE \"public\".\"logs\";");
        } else {
            assertThat(logs).contains("ALTER PUBLICATION \"flow_publication\" ADD TABLE \"public\".\"logs_b\";");
        }
    }

    @Test
    void anUnloggedTableIsListedAndItsDescriptionSaysItsChangesCannotBeCaptured() {
        assertThat(description(stream(catalog, "public", "scratch"))).startsWith("Unlogged table:")
                .contains("ALTER TABLE \"public\".\"scratch\" SET LOGGED;")
                .contains("ALTER PUBLICATION \"flow_publication\" ADD TABLE \"public\".\"scratch\";");
    }

    @Test
    void aColumnNamedLikeACdcFieldIsPointedOut() {
        JsonNode clash = stream(catalog, "public", "clash");
        assertThat(description(clash)).contains("Column \"_ab_cdc_lsn\" shares its name with a CDC metadata field");
        assertThat(clash.get("json_schema").get("properties").get("_ab_cdc_lsn"))
                .isEqualTo(DiscoverRuns.json("{\"type\":\"number\"}"));
    }

    @Test
    void withAForAllTablesPublicationOnlyUnloggedTablesAreNotCaptured() {
        var config = config(pg, database, "postgres", null).put("publication_name", "all_tables");
        JsonNode all = discover(config);
        for (JsonNode s : all.get("streams")) {
            String name = s.get("name").asText();
            if (name.equals("scratch")) {
                assertThat(description(s)).startsWith("Unlogged table:").doesNotContain("ALTER PUBLICATION");
            } else {
                assertThat(description(s)).as(name).doesNotContain("publication");
            }
        }
    }

    @Test
    void aMissingPublicationIsExplainedByWhatReadWillDo() {
        var create = config(pg, database, "postgres", null).put("publication_name", "not_yet");
        ConnectorRun run = discoverRun(create);
        assertThat(description(stream(run.catalog(), "public", "keyed"))).isEqualTo(
                "Publication \"not_yet\" does not exist yet: read will create it FOR ALL TABLES, which captures this "
                        + "table's changes.");
        assertThat(run.ofType("LOG")).anySatisfy(log -> assertThat(log.get("log").get("message").asText())
                .contains("publication \"not_yet\" does not exist yet: read will create it FOR ALL TABLES"));

        var noCreate = create.deepCopy().put("create_publication", false);
        assertThat(description(stream(discover(noCreate), "public", "keyed"))).isEqualTo(
                "Publication \"not_yet\" does not exist and create_publication is off: this table's changes are not "
                        + "captured. Run CREATE PUBLICATION \"not_yet\" FOR ALL TABLES; (or FOR TABLE with the tables "
                        + "to capture).");
    }

    @Test
    void tablesTheUserCannotSelectAreListedWithTheGrantsToRun() {
        JsonNode asReader = discover(config(pg, database, role, "reader-pw"));
        assertThat(ids(asReader)).isEqualTo(ids(catalog));
        assertThat(description(stream(asReader, "public", "secret"))).endsWith("User \"" + role
                + "\" cannot SELECT this table, so its rows cannot be backfilled. Run GRANT SELECT ON \"public\".\"secret\" TO \""
                + role + "\";");
        assertThat(description(stream(asReader, "hidden", "stuff"))).contains("User \"" + role
                + "\" cannot SELECT this table, so its rows cannot be backfilled. Run GRANT USAGE ON SCHEMA \"hidden\" TO \""
                + role + "\"; GRANT SELECT ON \"hidden\".\"stuff\" TO \"" + role + "\";");
        assertThat(description(stream(asReader, "public", "MixedCase"))).isEmpty();
        assertThat(description(stream(asReader, "order", "select"))).isEmpty();
    }

    @Test
    void theLogSaysWhatWasFound() {
        ConnectorRun run = discoverRun(config(pg, database, "postgres", null));
        assertThat(run.ofType("LOG")).anySatisfy(log -> assertThat(log.get("log").get("message").asText())
                .startsWith("Discovered 18 tables; ")
                .contains("not in publication \"flow_publication\""));
    }

    @Test
    void theSqlTheDescriptionsSuggestFixesWhatTheyDescribe() {
        String db = pg.createDatabase("fixes");
        String user = "fixer_" + db.substring(db.length() - 10);
        pg.execute(db,
                "CREATE SCHEMA \"Odd \"\"schema\"\"\"",
                "CREATE TABLE \"Odd \"\"schema\"\"\".\"Weird \"\"Name\"\"\" (id int PRIMARY KEY)",
                "CREATE UNLOGGED TABLE \"Un \"\"logged\"\"\" (id int PRIMARY KEY)",
                "CREATE TABLE parted (id int PRIMARY KEY) PARTITION BY LIST (id)",
                "CREATE TABLE parted_1 PARTITION OF parted FOR VALUES IN (1)",
                "CREATE TABLE parted_2 PARTITION OF parted FOR VALUES IN (2)",
                "CREATE PUBLICATION flow_publication FOR TABLE parted_1",
                "SET password_encryption = 'scram-sha-256'",
                "CREATE ROLE " + user + " LOGIN PASSWORD 'fixer-pw'");
        try {
            var asUser = config(pg, db, user, "fixer-pw");
            JsonNode before = discover(asUser);
            List<String> fixes = new java.util.ArrayList<>();
            for (JsonNode s : before.get("streams")) {
                assertThat(description(s)).as(s.toString()).isNotEmpty();
                var statements = java.util.regex.Pattern.compile("(?:ALTER|GRANT) [^;]*;").matcher(description(s));
                while (statements.find()) {
                    fixes.add(statements.group());
                }
            }
            assertThat(fixes).hasSizeGreaterThanOrEqualTo(6);
            pg.execute(db, fixes.toArray(String[]::new));
            for (JsonNode s : discover(asUser).get("streams")) {
                assertThat(description(s)).as(s.get("name").asText()).isEmpty();
            }
        } finally {
            pg.execute(db, "DROP OWNED BY " + user);
            pg.execute("postgres", "DROP ROLE " + user);
        }
    }
}
