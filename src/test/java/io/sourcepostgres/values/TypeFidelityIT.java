package io.sourcepostgres.values;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcepostgres.airbyte.Json;
import io.sourcepostgres.config.ConnectorConfig;
import io.sourcepostgres.postgres.PgConnections;
import io.sourcepostgres.testing.CaptureFixture;
import io.sourcepostgres.testing.Connector;
import io.sourcepostgres.testing.ConnectorRun;
import io.sourcepostgres.testing.PostgresCluster;
import io.sourcepostgres.testing.PostgresExtension;
import io.sourcepostgres.testing.ProtocolValidator;
import io.sourcepostgres.values.TypeCases.Case;
import io.sourcepostgres.values.TypeCases.Check;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Every case of {@link TypeCases} through the real connector: inserted before the first {@code read} (the
 * backfill path) and again, under other ids, before a second {@code read} (the replication path). For every
 * case the emitted value is exactly the expected JSON, the record validates against the stream's discovered
 * schema and the column's schema is the expected one, both paths emit byte-identical {@code data}, the value
 * reads back equal in PostgreSQL, and the documented NaN/Infinity nulls carry their {@code meta.changes}.
 * A second cluster whose output-shaping settings all differ emits the very same bytes.
 */
@ExtendWith(PostgresExtension.class)
class TypeFidelityIT {
    /** Added to a case's backfill id for its replicated copy. */
    private static final int REPLICATED = 100_000;

    /** Where a case lives: table, column, and its backfill id. */
    private record Placed(Case k, String table, String column, int id) {}

    /** One RECORD: its stream, id, every data field's exact JSON text in order, and its meta. */
    private record Emitted(String stream, int id, LinkedHashMap<String, String> raw, JsonNode data, JsonNode meta) {
        /** The data's bytes without the id and the CDC fields, which differ between paths by design. */
        String values() {
            StringBuilder s = new StringBuilder();
            raw.forEach((name, json) -> {
                if (!name.equals("id") && !name.startsWith("_ab_cdc_")) {
                    s.append(name).append('=').append(json).append('\n');
                }
            });
            return s.toString();
        }
    }

    /** What one cluster emitted for every case. */
    private record Outcome(int version, List<Placed> placed, Map<String, Emitted> backfill,
            Map<String, Emitted> replication, Map<String, JsonNode> schemas) {}

    private static Outcome reference;

    private static synchronized Outcome reference(PostgresCluster pg) {
        if (reference == null) {
            reference = capture(pg);
        }
        return reference;
    }

    @Test
    void everyCaseIsExactValidIdenticalOnBothPathsAndReadsBack(PostgresCluster pg) throws Exception {
        Outcome out = reference(pg);
        String db = pg.createDatabase("roundtrip");
        pg.execute(db, TypeCases.SETUP);
        SoftAssertions softly = new SoftAssertions();
        try (Connection c = new PgConnections(config(pg, db)).openQuery()) {
            for (Placed p : out.placed()) {
                Case k = p.k();
                Emitted backfilled = out.backfill().get(key(p.table(), p.id()));
                Emitted replicated = out.replication().get(key(p.table(), p.id() + REPLICATED));
                softly.assertThat(backfilled).as("backfill record of %s", k).isNotNull();
                softly.assertThat(replicated).as("replicated record of %s", k).isNotNull();
                if (backfilled == null || replicated == null) {
                    continue;
                }
                // (a) exactly the expected JSON; every other column of the row is null
                softly.assertThat(backfilled.raw().get(p.column())).as("backfill of %s", k).isEqualTo(k.expected());
                backfilled.raw().forEach((name, json) -> {
                    if (name.startsWith("v_") && !name.equals(p.column())) {
                        softly.assertThat(json).as("NULL column %s next to %s", name, k).isEqualTo("null");
                    }
                });
                // (b) valid against the discovered schema, whose column schema is the expected one
                JsonNode streamSchema = out.schemas().get(p.table());
                for (Emitted e : List.of(backfilled, replicated)) {
                    try {
                        ProtocolValidator.assertMatchesSchema(e.data(), streamSchema);
                    } catch (AssertionError error) {
                        softly.fail("%s: %s", k, error.getMessage());
                    }
                }
                softly.assertThat(streamSchema.at("/properties/" + p.column()))
                        .as("schema of a %s column", k.type())
                        .isEqualTo(TypeCases.READER.readTree(TypeCases.SCHEMAS.get(k.type())));
                // (c) the same bytes on both paths
                softly.assertThat(replicated.values()).as("replicated %s", k).isEqualTo(backfilled.values());
                // (d) reads back equal, or is a documented null flagged in meta.changes
                for (Emitted e : List.of(backfilled, replicated)) {
                    JsonNode changes = e.meta() == null ? null : e.meta().get("changes");
                    if (k.check() == Check.NULLED) {
                        softly.assertThat(changes).as("meta.changes of %s", k).isNotNull();
                        if (changes != null) {
                            softly.assertThat(changes).as("meta.changes of %s", k).hasSize(1);
                            softly.assertThat(changes.get(0)).as("meta.changes of %s", k).isEqualTo(
                                    Json.MAPPER.createObjectNode().put("field", p.column()).put("change", "NULLED")
                                            .put("reason", "SOURCE_SERIALIZATION_ERROR"));
                        }
                    } else {
                        softly.assertThat(changes == null || changes.isEmpty()).as("no meta.changes for %s", k).isTrue();
                    }
                }
                if (out.version() >= k.roundTripSince()) {
                    String emitted = backfilled.raw().get(p.column());
                    softly.assertThat(TypeCases.readsBackEqual(c, k, emitted)).as("%s read back from %s", k,
                            emitted.length() > 200 ? emitted.substring(0, 200) + "..." : emitted).isTrue();
                }
            }
        }
        softly.assertAll();
        assertThat(out.placed()).hasSizeGreaterThan(300);
    }

    @Test
    void serverSettingsDoNotChangeTheOutput(PostgresCluster pg) {
        Outcome expected = reference(pg);
        try (PostgresCluster odd = PostgresCluster.start(TypeCases.oddServer())) {
            Outcome actual = capture(odd);
            assertThat(actual.schemas()).isEqualTo(expected.schemas());
            SoftAssertions softly = new SoftAssertions();
            for (Placed p : expected.placed()) {
                for (int id : new int[] {p.id(), p.id() + REPLICATED}) {
                    Map<String, Emitted> side = id == p.id() ? actual.backfill() : actual.replication();
                    Map<String, Emitted> reference = id == p.id() ? expected.backfill() : expected.replication();
                    Emitted e = side.get(key(p.table(), id));
                    softly.assertThat(e).as("%s on the odd server", p.k()).isNotNull();
                    if (e != null) {
                        softly.assertThat(e.values()).as("%s on the odd server", p.k())
                                .isEqualTo(reference.get(key(p.table(), id)).values());
                    }
                }
            }
            softly.assertAll();
        }
    }

    /** Creates the tables, inserts every case, discovers, reads (backfill), inserts again, reads (replication). */
    private static Outcome capture(PostgresCluster cluster) {
        try (CaptureFixture f = new CaptureFixture(cluster)) {
            f.sql(TypeCases.SETUP);
            int version = serverMajor(f);
            Map<String, Map<String, String>> columns = new TreeMap<>(); // table -> column -> type
            List<Placed> placed = new ArrayList<>();
            int id = 0;
            for (Case k : TypeCases.ALL) {
                if (version < k.since()) {
                    continue;
                }
                String table = "types_" + group(k.type());
                String column = "v_" + k.type().replaceAll("[^a-z0-9]", "_");
                columns.computeIfAbsent(table, t -> new LinkedHashMap<>()).put(column, k.type());
                placed.add(new Placed(k, table, column, ++id));
            }
            List<String> ddl = new ArrayList<>();
            columns.forEach((table, cols) -> {
                StringBuilder sql = new StringBuilder("CREATE TABLE \"" + table + "\" (id int PRIMARY KEY");
                cols.forEach((name, type) -> sql.append(", \"").append(name).append("\" ").append(type));
                ddl.add(sql.append(')').toString());
                f.capture("public", table);
            });
            f.sql(ddl.toArray(String[]::new));
            insert(f, placed, 0);
            JsonNode catalog = Connector.run("discover", "--config", f.configFile().toString()).catalog();
            Map<String, JsonNode> schemas = new TreeMap<>();
            for (JsonNode s : catalog.get("streams")) {
                if (columns.containsKey(s.get("name").asText())) {
                    // The description names the fixture's own (random) publication; the properties are the schema.
                    ObjectNode schema = (ObjectNode) s.get("json_schema").deepCopy();
                    schema.remove("description");
                    schemas.put(s.get("name").asText(), schema);
                }
            }
            ConnectorRun first = f.read();
            assertThat(first.exitCode()).as(first.stderr()).isZero();
            insert(f, placed, REPLICATED);
            ConnectorRun second = f.read();
            assertThat(second.exitCode()).as(second.stderr()).isZero();
            return new Outcome(version, placed, records(first), records(second), schemas);
        }
    }

    /** Inserts every case, literal by literal, under settings that make the literals mean one thing. */
    private static void insert(CaptureFixture f, List<Placed> placed, int idOffset) {
        try (Connection c = f.pg.connect(f.database); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            st.execute("SET TimeZone = 'UTC'; SET DateStyle = 'ISO, MDY'; SET IntervalStyle = 'postgres'");
            for (Placed p : placed) {
                st.execute("INSERT INTO \"" + p.table() + "\" (id, \"" + p.column() + "\") VALUES ("
                        + (p.id() + idOffset) + ", " + p.k().value() + ")");
            }
            c.commit();
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String group(String type) {
        if (type.contains("[]")) {
            return "arrays";
        }
        String base = type.replaceAll("\\(.*\\)", "");
        return switch (base) {
            case "boolean", "int2", "int4", "int8", "oid", "float4", "float8", "numeric", "money", "price",
                    "small_price" -> "numbers";
            case "text", "char", "varchar", "name", "\"char\"", "citext", "code", "bytea", "uuid" -> "strings";
            case "json", "jsonb" -> "json";
            case "date", "timestamp", "timestamptz", "time", "timetz", "interval" -> "times";
            default -> "others";
        };
    }

    /** Every RECORD of a run by stream and id, with the exact text of each data field as printed. */
    private static Map<String, Emitted> records(ConnectorRun run) {
        Map<String, Emitted> byKey = new LinkedHashMap<>();
        for (String line : run.stdout().split("\n")) {
            if (line.startsWith("{\"type\":\"RECORD\"")) {
                Emitted e = parse(line);
                Emitted before = byKey.put(key(e.stream(), e.id()), e);
                assertThat(before).as("one record for %s/%d", e.stream(), e.id()).isNull();
            }
        }
        return byKey;
    }

    private static Emitted parse(String line) {
        try (JsonParser p = TypeCases.READER.getFactory().createParser(line)) {
            String stream = null;
            LinkedHashMap<String, String> raw = new LinkedHashMap<>();
            JsonNode meta = null;
            p.nextToken();
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                p.nextToken();
                if (!field.equals("record")) {
                    p.skipChildren();
                    continue;
                }
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String name = p.currentName();
                    p.nextToken();
                    switch (name) {
                        case "stream" -> stream = p.getText();
                        case "meta" -> meta = TypeCases.READER.readTree(p);
                        case "data" -> {
                            while (p.nextToken() == JsonToken.FIELD_NAME) {
                                String column = p.currentName();
                                p.nextToken();
                                int start = (int) p.currentTokenLocation().getCharOffset();
                                p.skipChildren();
                                p.finishToken();
                                int end = (int) p.currentLocation().getCharOffset();
                                raw.put(column, line.substring(start, end));
                            }
                        }
                        default -> p.skipChildren();
                    }
                }
            }
            JsonNode data = TypeCases.READER.readTree(line).get("record").get("data");
            // The exact texts are only as good as the offsets: they must parse to the record's own values.
            raw.forEach((column, json) -> {
                try {
                    assertThat(TypeCases.READER.readTree(json)).as("raw text of %s", column).isEqualTo(data.get(column));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            return new Emitted(stream, data.get("id").asInt(), raw, data, meta);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String key(String table, int id) {
        return table + "/" + id;
    }

    private static int serverMajor(CaptureFixture f) {
        return Integer.parseInt(f.scalar("SHOW server_version_num")) / 10000;
    }

    private static ConnectorConfig config(PostgresCluster cluster, String db) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("connectionURI", cluster.uri("postgres", null, db));
        return ConnectorConfig.from(Json.MAPPER.valueToTree(json));
    }
}
