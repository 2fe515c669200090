package io.sourcepostgres.capture;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcepostgres.testing.AppliedRecords;
import io.sourcepostgres.testing.CaptureFixture;
import io.sourcepostgres.testing.ConnectorRun;
import io.sourcepostgres.testing.PostgresCluster;
import io.sourcepostgres.testing.PostgresExtension;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Keys that are hard to order, each backfilled with chunk size 1 (every boundary exercised) while a writer
 * inserts, updates (including key changes) and deletes: the applied output must equal the table, read
 * afterwards through the connector itself as a full refresh, and per key {@code _ab_cdc_lsn} never decreases.
 */
@ExtendWith(PostgresExtension.class)
class KeyTypesMergeIT {

    /** name, key DDL (columns and primary key), SQL expression producing a key from integer g, key columns. */
    static Stream<Arguments> keys() {
        return Stream.of(
                Arguments.of("icu_text", "k text COLLATE \"en-US-x-icu\" PRIMARY KEY",
                        "(ARRAY['b','B','a','A','ä','Z','_x','10','9'])[1 + g % 9] || g", List.of("k")),
                Arguments.of("citext_key", "k citext PRIMARY KEY", "'Key-' || g", List.of("k")),
                Arguments.of("uuid_key", "k uuid PRIMARY KEY", "md5(g::text)::uuid", List.of("k")),
                Arguments.of("numeric_key", "k numeric PRIMARY KEY", "(g - 20) / 7.0", List.of("k")),
                Arguments.of("tstz_key", "k timestamptz PRIMARY KEY",
                        "timestamptz '2024-03-10 01:30:00+00' + g * interval '37 minutes'", List.of("k")),
                Arguments.of("enum_key", "k mood, n int, PRIMARY KEY (k, n)", "(ARRAY['sad','ok','happy'])[1 + g % 3]::mood",
                        List.of("k", "n")),
                Arguments.of("bool_key", "k boolean, n int, PRIMARY KEY (k, n)", "g % 2 = 0", List.of("k", "n")),
                Arguments.of("bytea_key", "k bytea PRIMARY KEY", "decode(lpad(to_hex(g * 7919), 8, '0'), 'hex')", List.of("k")),
                Arguments.of("mixed_key", "k text COLLATE \"en-US-x-icu\", d date, u uuid, PRIMARY KEY (k, d, u)",
                        "(ARRAY['x','X','y'])[1 + g % 3]", List.of("k", "d", "u")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("keys")
    void backfilledWithChunkSizeOneAndMergedUnderConcurrentWrites(String name, String keyDdl, String keyExpr,
            List<String> keyColumns, PostgresCluster pg) throws Exception {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            f.sql("CREATE EXTENSION IF NOT EXISTS citext", "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')");
            f.sql("CREATE TABLE " + name + " (" + keyDdl + ", v int NOT NULL DEFAULT 0)");
            f.sql(insert(name, keyExpr, keyColumns, 1, 40));
            f.capture("public", name);
            f.config().put("backfill_chunk_size", 1);
            Thread writer = new Thread(() -> {
                for (int i = 0; i < 30; i++) {
                    f.sql("UPDATE " + name + " SET v = v + 1 WHERE ctid = (SELECT ctid FROM " + name
                            + " ORDER BY random() LIMIT 1)");
                    if (i % 6 == 0) {
                        f.sql("DELETE FROM " + name + " WHERE ctid = (SELECT ctid FROM " + name + " ORDER BY random() LIMIT 1)");
                        f.sql(insert(name, keyExpr, keyColumns, 100 + i, 100 + i));
                    }
                    if (i % 10 == 5 && keyColumns.size() == 1) {
                        f.sql("UPDATE " + name + " SET " + keyColumns.get(0) + " = (SELECT " + keyExpr.replace("g", "(" + (500 + i) + ")")
                                + ") WHERE ctid = (SELECT ctid FROM " + name + " ORDER BY random() LIMIT 1)");
                    }
                }
            });
            writer.start();
            ConnectorRun first = f.read();
            writer.join();
            ConnectorRun second = f.read();
            assertThat(first.exitCode()).as(first.toString()).isZero();
            assertThat(second.exitCode()).as(second.toString()).isZero();

            List<JsonNode> records = new ArrayList<>(first.records());
            records.addAll(second.records());
            Map<String, JsonNode> applied = AppliedRecords.apply(records, data -> key(data, keyColumns));

            CaptureFixture.Catalog.set(f, null);
            f.fullRefresh(name);
            f.setState(null);
            ConnectorRun snapshot = f.read();
            Map<String, JsonNode> table = new TreeMap<>();
            for (JsonNode r : snapshot.records()) {
                table.put(key(r.get("data"), keyColumns), AppliedRecords.withoutCdc(r.get("data")));
            }
            assertThat(table).hasSizeGreaterThanOrEqualTo(35);
            assertThat(applied).isEqualTo(table);
        }
    }

    private static String insert(String table, String keyExpr, List<String> keyColumns, int from, int to) {
        String keys = switch (keyColumns.size()) {
            case 1 -> keyExpr;
            case 2 -> keyExpr + ", g";
            default -> keyExpr + ", date '2000-01-01' + g, md5(g::text)::uuid";
        };
        return "INSERT INTO " + table + " (" + String.join(", ", keyColumns) + ") SELECT " + keys
                + " FROM generate_series(" + from + ", " + to + ") g ON CONFLICT DO NOTHING";
    }

    private static String key(JsonNode data, List<String> columns) {
        StringBuilder sb = new StringBuilder();
        for (String c : columns) {
            sb.append(data.get(c)).append('|');
        }
        return sb.toString();
    }
}
