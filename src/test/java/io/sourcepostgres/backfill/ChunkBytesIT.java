package io.sourcepostgres.backfill;

import static io.sourcepostgres.backfill.BackfillFixture.connect;
import static io.sourcepostgres.backfill.BackfillFixture.expected;
import static io.sourcepostgres.backfill.BackfillFixture.plan;
import static io.sourcepostgres.backfill.BackfillFixture.serverMajor;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.sourcepostgres.discovery.ColumnInfo;
import io.sourcepostgres.pgoutput.TupleData;
import io.sourcepostgres.testing.PostgresCluster;
import io.sourcepostgres.testing.PostgresExtension;
import io.sourcepostgres.values.ValueEncoders;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The bytes a chunk holds for each value are exactly the type's output function's (as {@code format('%s')}
 * gives them) and exactly what pgoutput sends for the same row, for every type family of TYPES.md: so a
 * backfilled row and a replicated row go through the value encoders as the same input.
 */
@ExtendWith(PostgresExtension.class)
class ChunkBytesIT {
    /** Column type and a literal for it; the same families as values/ValueEncodersIT. */
    private static final String[][] CASES = {
        {"boolean", "true"}, {"boolean", "false"}, {"int2", "-32768"}, {"int4", "2147483647"},
        {"int8", "'-9223372036854775808'"}, {"oid", "4294967295"}, {"float4", "'3.4028235e38'"}, {"float4", "'1e-45'"},
        {"float4", "'-0'"}, {"float4", "'NaN'"}, {"float8", "'0.1'"}, {"float8", "'4.9e-324'"}, {"float8", "'-Infinity'"},
        {"numeric", "'12.30'"}, {"numeric", "'1e-20'"}, {"numeric", "'" + "9".repeat(1000) + ".0123456789'"},
        {"numeric(10,2)", "5"}, {"numeric", "'NaN'"}, {"money", "'-1000.5'"},
        {"text", "''"}, {"text", "'é 中文 😀 𝄞'"},
        {"text", "E'tab\\there\\nline\\r back\\\\slash \\\\N \\b \\f \\v \"q\" \\x01 \\x1f \\x7f'"},
        {"text", "'\\N'"}, {"text", "repeat('long ', 100000)"},
        {"char(5)", "'ab'"}, {"varchar(10)", "' x '"}, {"name", "'abc'"}, {"\"char\"", "'a'"}, {"citext", "'MiXeD'"},
        {"bytea", "'\\x0a0b0c09005c'"}, {"bytea", "''"}, {"bytea", "decode(repeat('00ff7f80', 50000), 'hex')"},
        {"uuid", "'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'"},
        {"json", "'{\"b\":1, \"a\" :\t[1, 2.50, \"x\\ty\\\\z\"],\n \"b\": 2}'"},
        {"jsonb", "'{\"s\": \"😀\\n\", \"n\": 1.0e5, \"z\": null}'"},
        {"date", "'2024-02-29'"}, {"date", "'0044-03-15 BC'"}, {"date", "'infinity'"},
        {"timestamp", "'2024-01-02 03:04:05.123456'"}, {"timestamp", "'294276-12-31 23:59:59.999999'"},
        {"timestamptz", "'2024-01-02 03:04:05.123456+05:45'"}, {"timestamptz", "'1800-01-01 00:00 Europe/Paris'"},
        {"timestamptz", "'-infinity'"}, {"time", "'24:00:00'"}, {"timetz", "'03:04:05+03:30:50'"},
        {"interval", "'1 year 2 mons 3 days 04:05:06.000007'"}, {"interval", "'-1 day +02:03'"},
        {"mood", "'happy'"}, {"price", "12.30"}, {"hstore", "'a=>1, b=>NULL, \"c d\"=>\"x\\\"y\\\\z\"'"},
        {"inet", "'192.168.0.1/24'"}, {"inet", "'::1'"}, {"cidr", "'10.0.0.0/8'"}, {"macaddr", "'08:00:2B:01:02:03'"},
        {"macaddr8", "'08:00:2b:01:02:03:04:05'"}, {"bit(4)", "B'1010'"}, {"varbit", "B'101'"},
        {"xml", "'<a>x &amp; y\t</a>'"}, {"tsvector", "'a fat cat'"}, {"tsquery", "'fat & (rat | cat)'"},
        {"pg_lsn", "'16/B374D848'"}, {"point", "'(1,2)'"}, {"box", "'(0,0),(1,1)'"}, {"int4range", "'[1,3)'"},
        {"pair", "ROW(1, 'a b\\', NULL)"}, {"ltree", "'a.b.c'"},
        {"int4[]", "'{{1,2},{3,NULL}}'"}, {"int4[]", "'[0:2]={1,2,3}'"},
        {"text[]", "ARRAY['a b', 'c\"d', NULL, 'NULL', '', 'a\\b', E'tab\\t', 'é😀']"},
        {"float8[]", "'{NaN,1.5,-Infinity}'"}, {"bytea[]", "ARRAY['\\x0a0b'::bytea, '']"},
        {"json[]", "ARRAY['{\"a\":[1,\"x,y\"]}'::json, 'null']"}, {"timestamptz[]", "ARRAY['2024-01-02 03:04:05+00'::timestamptz, NULL]"},
        {"mood[]", "'{sad,happy}'"}, {"hstore[]", "ARRAY['a=>1, b=>NULL'::hstore]"}, {"box[]", "ARRAY['(0,0),(1,1)'::box, '(2,2),(3,3)']"},
    };

    private static final String[] SETUP = {
        "CREATE EXTENSION hstore",
        "CREATE EXTENSION citext",
        "CREATE EXTENSION ltree",
        "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')",
        "CREATE DOMAIN price AS numeric(12,2) CHECK (VALUE >= 0)",
        "CREATE TYPE pair AS (n int, s text, x text)"
    };

    @Test
    void chunkBytesAreTheOutputFunctionsAndPgoutputsBytesForEveryTypeFamily(PostgresCluster pg) throws Exception {
        String db = pg.createDatabase("bf_bytes");
        String slot = db.replaceAll("[^a-z0-9_]", "_");
        pg.execute(db, SETUP);
        StringBuilder create = new StringBuilder("CREATE TABLE t (id int PRIMARY KEY");
        StringBuilder insert = new StringBuilder("INSERT INTO t VALUES (1");
        StringBuilder nulls = new StringBuilder("INSERT INTO t (id) VALUES (2)");
        for (int i = 0; i < CASES.length; i++) {
            create.append(", c").append(i).append(' ').append(CASES[i][0]);
            insert.append(", (").append(CASES[i][1]).append(")::").append(CASES[i][0]);
        }
        pg.execute(db, create.append(")").toString(), "CREATE PUBLICATION " + slot + " FOR TABLE t");
        try (Connection c = connect(pg, db)) {
            query(c, "SELECT pg_create_logical_replication_slot('" + slot + "', 'pgoutput')");
            try {
                pg.execute(db, insert.append(")").toString(), nulls.toString());
                BackfillPlan plan = plan(c, "public", "t");
                List<TupleData> chunkRows = new ArrayList<>();
                BackfillFixture.Read read = BackfillFixture.readAll(c, plan, 1, Long.MAX_VALUE);
                read.chunks().forEach(ch -> chunkRows.addAll(ch.rows()));
                assertThat(chunkRows).hasSize(2);

                // 1. The server's own output function, value by value.
                assertThat(read.rows()).containsExactlyElementsOf(expected(c, plan));

                // 2. pgoutput's tuple for the same rows, byte by byte.
                Map<String, TupleData> replicated = pgoutputInserts(c, slot);
                // The test servers commit asynchronously: decoding sees a commit once the WAL writer flushed it.
                for (int attempt = 0; replicated.size() < 2 && attempt < 100; attempt++) {
                    Thread.sleep(100);
                    replicated = pgoutputInserts(c, slot);
                }
                assertThat(replicated).containsOnlyKeys("1", "2");
                SoftAssertions softly = new SoftAssertions();
                for (TupleData row : chunkRows) {
                    TupleData sent = replicated.get(row.text(0));
                    assertThat(sent.size()).isEqualTo(row.size());
                    for (int i = 0; i < row.size(); i++) {
                        String what = i == 0 ? "id" : CASES[i - 1][0] + " " + abbreviate(CASES[i - 1][1]);
                        softly.assertThat((char) row.kind(i)).as("kind of %s", what).isEqualTo((char) sent.kind(i));
                        softly.assertThat(bytes(row, i)).as("bytes of %s", what).isEqualTo(bytes(sent, i));
                    }
                }
                softly.assertAll();

                // 3. And the value encoders take every chunk value as they take pgoutput's.
                for (TupleData row : chunkRows) {
                    for (int i = 1; i < row.size(); i++) {
                        if (!row.isNull(i)) {
                            ColumnInfo col = plan.columns().get(i);
                            assertThat(encode(col, row, i)).as("%s", col.type().name()).isEqualTo(encode(col, replicated.get(row.text(0)), i));
                        }
                    }
                }
                assertThat(serverMajor(c)).isGreaterThanOrEqualTo(12);
            } finally {
                query(c, "SELECT pg_drop_replication_slot('" + slot + "')");
            }
        }
    }

    private static String encode(ColumnInfo col, TupleData row, int i) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (JsonGenerator g = new JsonFactory().createGenerator(out)) {
            ValueEncoders.forType(col.type(), col.typmod()).write(g, row.buffer(), row.offset(i), row.length(i));
        }
        String json = out.toString(java.nio.charset.StandardCharsets.UTF_8);
        assertThat(json).isNotEmpty();
        return json;
    }

    private static byte[] bytes(TupleData row, int i) {
        return row.isNull(i) ? null : Arrays.copyOfRange(row.buffer(), row.offset(i), row.offset(i) + row.length(i));
    }

    private static String abbreviate(String s) {
        return s.length() > 60 ? s.substring(0, 60) + "..." : s;
    }

    private static void query(Connection c, String sql) throws Exception {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
        }
    }

    /**
     * The INSERTs pgoutput (protocol 1) decodes from the slot, by the text of their first column. Decoded here
     * through the SQL interface in this session, whose canonical settings format the values, as the
     * walsender's do for the replication connection.
     */
    private static Map<String, TupleData> pgoutputInserts(Connection c, String slot) throws Exception {
        Map<String, TupleData> inserts = new HashMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT data FROM pg_logical_slot_peek_binary_changes(?, NULL, NULL, "
                + "'proto_version', '1', 'publication_names', ?)")) {
            ps.setString(1, slot);
            ps.setString(2, slot);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    byte[] message = rs.getBytes(1);
                    if (message[0] != 'I') {
                        continue;
                    }
                    ByteBuffer in = ByteBuffer.wrap(message);
                    in.get();
                    in.getInt();
                    assertThat((char) in.get()).isEqualTo('N');
                    int columns = in.getShort();
                    byte[] kinds = new byte[columns];
                    int[] offsets = new int[columns];
                    int[] lengths = new int[columns];
                    for (int i = 0; i < columns; i++) {
                        kinds[i] = in.get();
                        if (kinds[i] == 't' || kinds[i] == 'b') {
                            lengths[i] = in.getInt();
                            offsets[i] = in.position();
                            in.position(in.position() + lengths[i]);
                        }
                    }
                    TupleData tuple = new TupleData(message, kinds, offsets, lengths);
                    inserts.put(tuple.text(0), tuple);
                }
            }
        }
        return inserts;
    }
}
