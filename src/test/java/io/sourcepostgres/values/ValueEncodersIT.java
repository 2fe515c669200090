package io.sourcepostgres.values;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sourcepostgres.airbyte.Json;
import io.sourcepostgres.config.ConnectorConfig;
import io.sourcepostgres.postgres.PgConnections;
import io.sourcepostgres.testing.PostgresCluster;
import io.sourcepostgres.testing.PostgresExtension;
import io.sourcepostgres.values.TypeCases.Case;
import io.sourcepostgres.values.TypeCases.Check;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Every case of {@link TypeCases} against a real server, through the encoders alone: PostgreSQL's own text output of a literal, read under the
 * canonical session settings, encodes to the expected JSON; the JSON read back by PostgreSQL gives an equal
 * value (except the documented NaN/Infinity nulls and infinite-date clamps); and a server whose TimeZone,
 * DateStyle, IntervalStyle, lc_monetary, extra_float_digits and bytea_output all differ produces the very
 * same JSON.
 */
@ExtendWith(PostgresExtension.class)
class ValueEncodersIT {
    @Test
    void everyCaseEncodesAsExpectedAndReadsBackEqual(PostgresCluster pg) throws Exception {
        String db = pg.createDatabase("values");
        pg.execute(db, TypeCases.SETUP);
        SoftAssertions softly = new SoftAssertions();
        int checked = 0;
        try (Connection c = new PgConnections(config(pg, db)).openQuery()) {
            int version = serverMajor(c);
            for (Case k : TypeCases.ALL) {
                if (version < k.since()) {
                    continue;
                }
                checked++;
                Encoded out = encode(c, k);
                softly.assertThat(out.json()).as("%s", k).isEqualTo(k.expected());
                softly.assertThat(out.representable()).as("%s reports a nulled value", k).isEqualTo(k.check() != Check.NULLED);
                if (version >= k.roundTripSince()) {
                    softly.assertThat(TypeCases.readsBackEqual(c, k, out.json())).as("%s read back from %s", k, abbreviate(out.json()))
                            .isTrue();
                }
            }
        }
        softly.assertAll();
        assertThat(checked).isGreaterThan(100);
    }

    @Test
    void serverSettingsDoNotChangeTheOutput(PostgresCluster pg) throws Exception {
        // The shared server gives the reference; this one differs in every setting that shapes text output.
        String db = pg.createDatabase("values");
        pg.execute(db, TypeCases.SETUP);
        try (PostgresCluster odd = PostgresCluster.start(TypeCases.oddServer())) {
            String oddDb = odd.createDatabase("values");
            odd.execute(oddDb, TypeCases.SETUP);
            assertServerDefaultsReallyDiffer(odd, oddDb);
            SoftAssertions softly = new SoftAssertions();
            try (Connection reference = new PgConnections(config(pg, db)).openQuery();
                    Connection other = new PgConnections(config(odd, oddDb)).openQuery()) {
                int version = serverMajor(other);
                for (Case k : TypeCases.ALL) {
                    if (version < k.since()) {
                        continue;
                    }
                    softly.assertThat(encode(other, k)).as("%s", k).isEqualTo(encode(reference, k));
                }
            }
            softly.assertAll();
        }
    }

    /**
     * The odd server really runs with its settings, so the test above proves something. pgjdbc itself
     * sends DateStyle, TimeZone and extra_float_digits at connection start, so those are checked in the
     * configuration the server applied; a session that does not set the others shows their effect.
     */
    private static void assertServerDefaultsReallyDiffer(PostgresCluster odd, String db) throws SQLException {
        try (Connection plain = odd.connect(db); Statement st = plain.createStatement()) {
            Map<String, String> applied = new LinkedHashMap<>();
            try (ResultSet rs = st.executeQuery("SELECT name, setting FROM pg_file_settings WHERE applied")) {
                while (rs.next()) {
                    applied.put(rs.getString(1).toLowerCase(java.util.Locale.ROOT), rs.getString(2));
                }
            }
            assertThat(applied).containsEntry("timezone", "Asia/Kathmandu").containsEntry("datestyle", "SQL, DMY")
                    .containsEntry("intervalstyle", "postgres_verbose").containsEntry("lc_monetary", "C.UTF-8")
                    .containsEntry("extra_float_digits", "0").containsEntry("bytea_output", "escape");
            try (ResultSet rs = st.executeQuery("SELECT format('%s', '1 year'::interval), format('%s', '\\x0a'::bytea)")) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo("@ 1 year");
                assertThat(rs.getString(2)).isEqualTo("\\012");
            }
        }
    }

    private record Encoded(String json, boolean representable) {}

    /** Reads the value's text output (the output function's exact bytes, as pgoutput sends them) and encodes it. */
    private static Encoded encode(Connection c, Case k) throws SQLException, IOException {
        PgType type;
        byte[] text;
        try (Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT pg_typeof(" + k.value() + ")::oid, format('%s', " + k.value() + ")")) {
            rs.next();
            type = resolve(c, rs.getLong(1));
            text = rs.getBytes(2);
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        boolean representable;
        try (JsonGenerator out = new JsonFactory().createGenerator(bytes)) {
            representable = ValueEncoders.forType(type, -1).write(out, text, 0, text.length);
        }
        String json = Encoding.strictUtf8(bytes.toByteArray());
        Encoding.assertValidJson(json);
        return new Encoded(json, representable);
    }

    /** The catalog's description of a type, as discovery resolves it: arrays, domains and enums followed. */
    private static PgType resolve(Connection c, long oid) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT n.nspname, t.typname, t.typtype, t.typcategory, "
                + "CASE WHEN t.typlen = -1 AND t.typelem <> 0 THEN t.typelem END, "
                + "CASE WHEN t.typtype = 'd' THEN t.typbasetype END, "
                + "ARRAY(SELECT e.enumlabel FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder)::text[] "
                + "FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.oid = ?")) {
            ps.setLong(1, oid);
            try (ResultSet rs = ps.executeQuery()) {
                assertThat(rs.next()).as("type %d", oid).isTrue();
                long element = rs.getLong(5);
                PgType elementType = rs.wasNull() ? null : resolve(c, element);
                long base = rs.getLong(6);
                PgType baseType = rs.wasNull() ? null : resolve(c, base);
                return new PgType(oid, rs.getString(1), rs.getString(2), rs.getString(3).charAt(0),
                        rs.getString(4).charAt(0), elementType, baseType,
                        List.of((String[]) rs.getArray(7).getArray()));
            }
        }
    }

    private static ConnectorConfig config(PostgresCluster cluster, String db) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("connectionURI", cluster.uri("postgres", null, db));
        return ConnectorConfig.from(Json.MAPPER.valueToTree(json));
    }

    private static int serverMajor(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SHOW server_version_num")) {
            rs.next();
            return Integer.parseInt(rs.getString(1)) / 10000;
        }
    }

    private static String abbreviate(String s) {
        return s.length() > 200 ? s.substring(0, 200) + "..." : s;
    }
}
