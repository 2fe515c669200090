package io.sourcepostgres.pgoutput;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sourcepostgres.pgoutput.PgOutputMessage.StreamStart;
import io.sourcepostgres.testing.PostgresCluster;
import io.sourcepostgres.testing.PostgresExtension;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.postgresql.PGConnection;
import org.postgresql.PGProperty;
import org.postgresql.replication.LogSequenceNumber;
import org.postgresql.replication.PGReplicationStream;
import org.postgresql.replication.fluent.logical.ChainedLogicalStreamBuilder;

/**
 * Captures pgoutput messages from a real server for each fixture scenario, twice: through the SQL
 * interface ({@code pg_logical_slot_peek_binary_changes}) and through a pgjdbc replication stream on the
 * same slot. It checks that both carry the same bytes at the same LSNs, that every message decodes (the
 * replication-stream ones straight from pgjdbc's buffers), and that the decoded structure equals that of
 * the committed fixture in {@code src/test/resources/pgoutput/}.
 *
 * <p>Regenerate the fixtures (on the default server, 17) with
 * {@code mvn -B verify -Dit.test=PgOutputFixturesIT -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false -Dpgoutput.fixtures.write=true}.
 *
 * <p>On a server too old for a scenario's options, the test proves instead that the server refuses them,
 * which is why the connector asks for protocol 1 on 12–13.
 */
@ExtendWith(PostgresExtension.class)
class PgOutputFixturesIT {
    private static final boolean WRITE = Boolean.getBoolean("pgoutput.fixtures.write");
    private static final String ORIGIN = "pgoutput_fixture_origin";
    private static final HexFormat HEX = HexFormat.of();

    /** How one fixture is made: slot options, decoding-session settings, SQL before and after the slot exists. */
    private record Scenario(String name, int minVersion, List<String> options, Map<String, String> settings,
            List<String> setup, List<String> changes) {}

    private static final Scenario CHANGES = new Scenario("changes-proto1", 12,
            List.of("proto_version", "1", "publication_names", "fixture_pub"),
            Map.of(),
            List.of(
                    "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')",
                    "CREATE DOMAIN positive AS integer CHECK (VALUE > 0)",
                    "CREATE TABLE kinds (id integer PRIMARY KEY, feeling mood, amount positive, note text, big text,"
                            + " price numeric(10,2), code varchar(20))",
                    "ALTER TABLE kinds ALTER COLUMN big SET STORAGE EXTERNAL",
                    "INSERT INTO kinds VALUES (2, 'ok', 5, 'toasted', repeat('0123456789', 400), 1.5, 'x')",
                    "CREATE TABLE full_identity (id integer, v text)",
                    "ALTER TABLE full_identity REPLICA IDENTITY FULL",
                    "CREATE TABLE index_identity (id integer NOT NULL, code text NOT NULL, v text)",
                    "CREATE UNIQUE INDEX index_identity_code ON index_identity (code)",
                    "ALTER TABLE index_identity REPLICA IDENTITY USING INDEX index_identity_code",
                    "CREATE TABLE no_identity (id integer, v text)",
                    "ALTER TABLE no_identity REPLICA IDENTITY NOTHING",
                    "CREATE SCHEMA \"Sch\"",
                    "CREATE TABLE \"Sch\".\"Weird \"\"Name\"\"\" (\"größe\" integer PRIMARY KEY, \"select\" text)",
                    "CREATE TABLE truncate_parent (id integer PRIMARY KEY)",
                    "CREATE TABLE truncate_child (id integer REFERENCES truncate_parent)",
                    "CREATE TABLE truncate_serial (id serial PRIMARY KEY)",
                    "CREATE PUBLICATION fixture_pub FOR ALL TABLES",
                    "SELECT pg_replication_origin_create('" + ORIGIN + "')"),
            List.of(
                    "INSERT INTO kinds VALUES (1, 'happy', 7, 'héllo ✓', NULL, 12.30, 'abc')",
                    "UPDATE kinds SET note = 'changed' WHERE id = 2",
                    "UPDATE kinds SET id = 3 WHERE id = 1",
                    "DELETE FROM kinds WHERE id = 3",
                    "BEGIN",
                    "INSERT INTO full_identity VALUES (1, 'a')",
                    "UPDATE full_identity SET v = 'b'",
                    "DELETE FROM full_identity",
                    "COMMIT",
                    "BEGIN",
                    "INSERT INTO index_identity VALUES (1, 'k1', 'v')",
                    "UPDATE index_identity SET v = 'w'",
                    "UPDATE index_identity SET code = 'k2'",
                    "DELETE FROM index_identity",
                    "COMMIT",
                    "INSERT INTO no_identity VALUES (1, NULL)",
                    "INSERT INTO \"Sch\".\"Weird \"\"Name\"\"\" VALUES (1, 'sélect')",
                    "TRUNCATE truncate_serial RESTART IDENTITY",
                    "TRUNCATE truncate_parent, truncate_serial CASCADE",
                    "SELECT pg_replication_origin_session_setup('" + ORIGIN + "')",
                    "BEGIN",
                    "SELECT pg_replication_origin_xact_setup('0/ABCDEF0', '1999-12-31 23:59:58.123456+00')",
                    "INSERT INTO no_identity VALUES (2, 'from elsewhere')",
                    "COMMIT",
                    "SELECT pg_replication_origin_session_reset()"));

    private static final Scenario MESSAGES = new Scenario("messages-proto1", 14,
            List.of("proto_version", "1", "publication_names", "fixture_pub", "messages", "true"),
            Map.of(),
            List.of(
                    "CREATE TABLE notes (id integer PRIMARY KEY, body text)",
                    "CREATE PUBLICATION fixture_pub FOR TABLE notes"),
            List.of(
                    "SELECT pg_logical_emit_message(false, 'heartbeat', 'plain text ✓')",
                    "BEGIN",
                    "INSERT INTO notes VALUES (1, 'one')",
                    "SELECT pg_logical_emit_message(true, 'audit', '\\x00ff10'::bytea)",
                    "COMMIT"));

    private static final Scenario BINARY = new Scenario("binary-proto1", 14,
            List.of("proto_version", "1", "publication_names", "fixture_pub", "binary", "true"),
            Map.of(),
            List.of(
                    "CREATE TABLE typed (id integer PRIMARY KEY, amount bigint, ratio float8, payload bytea, label text,"
                            + " at timestamptz, flags boolean[], missing text)",
                    "CREATE PUBLICATION fixture_pub FOR TABLE typed"),
            List.of(
                    "INSERT INTO typed VALUES (1, 9007199254740993, 0.1, '\\xdeadbeef', 'naïve',"
                            + " '2024-02-29 12:34:56.789012+00', '{true,false}', NULL)"));

    private static final Scenario STREAMING = new Scenario("streaming-proto2", 14,
            List.of("proto_version", "2", "publication_names", "fixture_pub", "streaming", "on", "messages", "true"),
            Map.of("logical_decoding_work_mem", "64kB"),
            List.of(
                    "CREATE TYPE size AS ENUM ('small', 'large')",
                    "CREATE TABLE items (id integer PRIMARY KEY, size size, label text)",
                    "CREATE TABLE scratch (id integer)",
                    "INSERT INTO items VALUES (0, 'small', 'before')",
                    "INSERT INTO scratch VALUES (1)",
                    "CREATE PUBLICATION fixture_pub FOR TABLE items, scratch"),
            List.of(
                    "BEGIN",
                    "SELECT pg_logical_emit_message(false, 'progress', 'outside the stream')",
                    "UPDATE items SET label = 'updated' WHERE id = 0",
                    "DELETE FROM items WHERE id = 0",
                    "TRUNCATE scratch",
                    "SELECT pg_logical_emit_message(true, 'marker', 'inside the stream')",
                    "INSERT INTO items SELECT g, 'large', 'r' || g FROM generate_series(1, 500) g",
                    "COMMIT",
                    "BEGIN",
                    "INSERT INTO items SELECT g, 'small', 'kept' FROM generate_series(1001, 1200) g",
                    "SAVEPOINT before_undone",
                    "INSERT INTO items SELECT g, 'small', 'undone' FROM generate_series(1201, 1600) g",
                    "ROLLBACK TO SAVEPOINT before_undone",
                    "INSERT INTO items VALUES (1601, 'small', 'after rollback')",
                    "COMMIT",
                    "BEGIN",
                    "INSERT INTO items SELECT g, 'large', 'discarded' FROM generate_series(2001, 2500) g",
                    "ROLLBACK"));

    private static final Scenario PARALLEL_ABORT = new Scenario("stream-abort-proto4", 16,
            List.of("proto_version", "4", "publication_names", "fixture_pub", "streaming", "parallel"),
            // streams every change at once (16+), so a two-row transaction is enough
            Map.of("debug_logical_replication_streaming", "immediate"),
            List.of(
                    "CREATE TABLE items (id integer PRIMARY KEY)",
                    "CREATE PUBLICATION fixture_pub FOR TABLE items"),
            List.of(
                    "BEGIN",
                    "INSERT INTO items VALUES (1)",
                    "SAVEPOINT s",
                    "INSERT INTO items VALUES (2)",
                    "ROLLBACK TO SAVEPOINT s",
                    "INSERT INTO items VALUES (3)",
                    "COMMIT",
                    "BEGIN",
                    "INSERT INTO items VALUES (4)",
                    "ROLLBACK"));

    @Test
    void changesUnderProtocol1(PostgresCluster pg) throws Exception {
        verify(pg, CHANGES);
    }

    @Test
    void logicalMessages(PostgresCluster pg) throws Exception {
        verify(pg, MESSAGES);
    }

    @Test
    void binaryTuples(PostgresCluster pg) throws Exception {
        verify(pg, BINARY);
    }

    @Test
    void streamedTransactionsUnderProtocol2(PostgresCluster pg) throws Exception {
        List<PgOutputMessage> decoded = verify(pg, STREAMING);
        if (decoded != null) {
            // the SQL interface does stream: a transaction over logical_decoding_work_mem arrives in segments
            assertThat(decoded).filteredOn(m -> m instanceof StreamStart s && !s.firstSegment()).isNotEmpty();
        }
    }

    @Test
    void parallelStreamAbortUnderProtocol4(PostgresCluster pg) throws Exception {
        verify(pg, PARALLEL_ABORT);
    }

    /** Returns the live messages decoded, or null when the server is too old and refused the options. */
    private static List<PgOutputMessage> verify(PostgresCluster pg, Scenario scenario) throws Exception {
        String db = pg.createDatabase("pgoutput_fx");
        String slot = db + "_slot";
        pg.execute(db, scenario.setup.toArray(String[]::new));
        try {
            executeBound(pg, db, "SELECT pg_create_logical_replication_slot(?, 'pgoutput')", slot);
            try {
                if (pg.majorVersion() < scenario.minVersion) {
                    assertRefused(pg, db, slot, scenario);
                    return null;
                }
                runChanges(pg, db, scenario);
                List<CapturedMessage> peeked = peek(pg, db, slot, scenario);
                List<PgOutputMessage> streamedDecoded = new ArrayList<>();
                List<CapturedMessage> streamed = stream(pg, db, slot, scenario, peeked.size(), streamedDecoded);

                assertThat(streamed).as("replication stream vs SQL interface").hasSameSizeAs(peeked);
                for (int i = 0; i < peeked.size(); i++) {
                    assertThat(HEX.formatHex(streamed.get(i).bytes())).as("message %d bytes", i)
                            .isEqualTo(HEX.formatHex(peeked.get(i).bytes()));
                    // the walsender sends 0/0 for writes that are not a callback's last (Relation, Type, and
                    // Begin when an Origin follows) so that synchronous replication never sees an LSN twice
                    assertThat(Lsn.format(streamed.get(i).lsn())).as("message %d LSN", i)
                            .isIn(Lsn.format(peeked.get(i).lsn()), "0/0");
                }
                List<PgOutputMessage> decoded = CapturedMessage.decodeAll(peeked);
                assertThat(MessageStructure.of(streamedDecoded)).as("decoded from pgjdbc's buffers")
                        .containsExactlyElementsOf(MessageStructure.of(decoded));
                if (WRITE) {
                    CapturedMessage.writeFixture(fixtureFile(scenario), header(pg, scenario), peeked);
                }
                List<PgOutputMessage> fixture = CapturedMessage.decodeAll(CapturedMessage.loadFixtureFrom(fixtureFile(scenario)));
                boolean sameVersion = pg.majorVersion() == fixtureMajorVersion(scenario);
                List<String> live = sameVersion ? MessageStructure.of(decoded) : MessageStructure.acrossVersions(decoded);
                List<String> expected = sameVersion ? MessageStructure.of(fixture) : MessageStructure.acrossVersions(fixture);
                assertThat(live).as("structure of live capture vs fixture %s", scenario.name).containsExactlyElementsOf(expected);
                return decoded;
            } finally {
                dropSlot(pg, db, slot);
            }
        } finally {
            if (scenario.setup.stream().anyMatch(s -> s.contains("pg_replication_origin_create"))) {
                executeBound(pg, db, "SELECT pg_replication_origin_drop(?)", ORIGIN);
            }
        }
    }

    private static void executeBound(PostgresCluster pg, String db, String sql, String value) throws SQLException {
        try (Connection c = pg.connect(db); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, value);
            ps.execute();
        }
    }

    /** Drops the slot, waiting for the walsender of a just-closed replication connection to let go of it. */
    private static void dropSlot(PostgresCluster pg, String db, String slot) throws SQLException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        try (Connection c = pg.connect(db);
                PreparedStatement drop = c.prepareStatement("SELECT pg_drop_replication_slot(slot_name)"
                        + " FROM pg_replication_slots WHERE slot_name = ? AND NOT active");
                PreparedStatement exists = c.prepareStatement("SELECT 1 FROM pg_replication_slots WHERE slot_name = ?")) {
            drop.setString(1, slot);
            exists.setString(1, slot);
            while (true) {
                drop.execute();
                try (ResultSet rs = exists.executeQuery()) {
                    if (!rs.next()) {
                        return;
                    }
                }
                assertThat(System.nanoTime()).as("slot %s released within 30 s", slot).isLessThan(deadline);
                Thread.sleep(20);
            }
        }
    }

    private static void runChanges(PostgresCluster pg, String db, Scenario scenario) throws SQLException {
        try (Connection c = pg.connect(db); Statement st = c.createStatement()) {
            for (String sql : scenario.changes) {
                st.execute(sql);
            }
            awaitWalFlushed(c);
        }
    }

    /**
     * Decoding reads only flushed WAL. The test clusters run with synchronous_commit = off, and an abort
     * record is never flushed by its own transaction, so wait for the WAL writer to flush all of it.
     */
    private static void awaitWalFlushed(Connection c) throws SQLException {
        String insertLsn;
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT pg_current_wal_insert_lsn()::text")) {
            rs.next();
            insertLsn = rs.getString(1);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_current_wal_flush_lsn() >= ?::pg_lsn")) {
            ps.setString(1, insertLsn);
            while (true) {
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    if (rs.getBoolean(1)) {
                        return;
                    }
                }
                assertThat(System.nanoTime()).as("WAL flushed up to %s within 30 s", insertLsn).isLessThan(deadline);
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                }
            }
        }
    }

    private static List<CapturedMessage> peek(PostgresCluster pg, String db, String slot, Scenario scenario) throws SQLException {
        return peek(pg, db, slot, scenario, scenario.settings);
    }

    private static List<CapturedMessage> peek(PostgresCluster pg, String db, String slot, Scenario scenario,
            Map<String, String> settings) throws SQLException {
        try (Connection c = pg.connect(db)) {
            applySettings(c, settings);
            try (PreparedStatement ps = c.prepareStatement("SELECT lsn::text, xid::text, data"
                    + " FROM pg_logical_slot_peek_binary_changes(?, NULL, NULL, VARIADIC ?::text[])")) {
                ps.setString(1, slot);
                ps.setArray(2, c.createArrayOf("text", scenario.options.toArray()));
                List<CapturedMessage> messages = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        messages.add(new CapturedMessage(Lsn.parse(rs.getString(1)), Long.parseLong(rs.getString(2)),
                                rs.getBytes(3)));
                    }
                }
                return messages;
            }
        }
    }

    private static void applySettings(Connection c, Map<String, String> settings) throws SQLException {
        for (Map.Entry<String, String> setting : settings.entrySet()) {
            try (PreparedStatement ps = c.prepareStatement("SELECT set_config(?, ?, false)")) {
                ps.setString(1, setting.getKey());
                ps.setString(2, setting.getValue());
                ps.execute();
            }
        }
    }

    /**
     * Reads {@code count} messages from the same slot over the replication protocol, decoding each straight
     * from the buffer pgjdbc hands out (a slice at a non-zero array offset).
     */
    private static List<CapturedMessage> stream(PostgresCluster pg, String db, String slot, Scenario scenario, int count,
            List<PgOutputMessage> decodedOut) throws Exception {
        Properties props = new Properties();
        PGProperty.USER.set(props, "postgres");
        PGProperty.REPLICATION.set(props, "database");
        PGProperty.ASSUME_MIN_SERVER_VERSION.set(props, "9.4");
        PGProperty.PREFER_QUERY_MODE.set(props, "simple");
        StringBuilder options = new StringBuilder();
        scenario.settings.forEach((k, v) -> options.append(" -c ").append(k).append('=').append(v));
        if (options.length() > 0) {
            PGProperty.OPTIONS.set(props, options.toString().trim());
        }
        List<CapturedMessage> messages = new ArrayList<>();
        PgOutputDecoder decoder = new PgOutputDecoder();
        try (Connection c = DriverManager.getConnection(pg.jdbcUrl(db), props)) {
            ChainedLogicalStreamBuilder builder = c.unwrap(PGConnection.class).getReplicationAPI().replicationStream()
                    .logical().withSlotName(slot).withStartPosition(LogSequenceNumber.valueOf(0L))
                    .withStatusInterval(1, TimeUnit.SECONDS);
            for (int i = 0; i < scenario.options.size(); i += 2) {
                builder.withSlotOption(scenario.options.get(i), scenario.options.get(i + 1));
            }
            try (PGReplicationStream stream = builder.start()) {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (messages.size() < count) {
                    ByteBuffer buffer = stream.readPending();
                    if (buffer == null) {
                        assertThat(System.nanoTime()).as("replication stream delivered %d of %d messages in 60 s",
                                messages.size(), count).isLessThan(deadline);
                        Thread.sleep(5);
                        continue;
                    }
                    assertThat(buffer.hasArray()).isTrue();
                    decodedOut.add(decoder.decode(buffer));
                    byte[] bytes = new byte[buffer.remaining()];
                    buffer.duplicate().get(bytes);
                    messages.add(new CapturedMessage(stream.getLastReceiveLSN().asLong(), 0, bytes));
                }
            }
        }
        return messages;
    }

    private static void assertRefused(PostgresCluster pg, String db, String slot, Scenario scenario) {
        List<String> optionNames = new ArrayList<>();
        for (int i = 0; i < scenario.options.size(); i += 2) {
            optionNames.add(scenario.options.get(i));
        }
        // without the scenario's session settings: they may not exist on this version either
        assertThatThrownBy(() -> peek(pg, db, slot, scenario, Map.of()))
                .as("PostgreSQL %s must refuse %s", pg.version(), scenario.options)
                .isInstanceOf(SQLException.class)
                .satisfies(e -> assertThat(optionNames).as("options named in: %s", e.getMessage())
                        .anyMatch(name -> e.getMessage().contains(name)));
    }

    /** The major version named in the fixture's "Server: PostgreSQL 17.11 on ..." header line. */
    private static int fixtureMajorVersion(Scenario scenario) throws java.io.IOException {
        Matcher m = Pattern.compile("^# Server: PostgreSQL (\\d+)", Pattern.MULTILINE)
                .matcher(Files.readString(fixtureFile(scenario)));
        assertThat(m.find()).as("server version in the header of %s", fixtureFile(scenario)).isTrue();
        return Integer.parseInt(m.group(1));
    }

    private static Path fixtureFile(Scenario scenario) {
        String base = System.getProperty("project.basedir");
        Path dir = base != null ? Paths.get(base) : Paths.get("").toAbsolutePath();
        return dir.resolve("src/test/resources/pgoutput").resolve(scenario.name + ".hex");
    }

    private static List<String> header(PostgresCluster pg, Scenario scenario) throws SQLException {
        String version;
        try (Connection c = pg.connect(); Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT version()")) {
            rs.next();
            version = rs.getString(1);
        }
        List<String> header = new ArrayList<>();
        header.add("pgoutput messages captured from a real server by PgOutputFixturesIT (scenario " + scenario.name + ").");
        header.add("Server: " + version);
        header.add("Decoded with: pg_logical_slot_peek_binary_changes(slot, NULL, NULL, "
                + String.join(", ", scenario.options.stream().map(o -> "'" + o + "'").toList()) + ")");
        Map<String, String> settings = new LinkedHashMap<>(scenario.settings);
        settings.forEach((k, v) -> header.add("Decoding session: SET " + k + " = '" + v + "'"));
        header.add("");
        header.add("SQL run before the slot was created (database of its own):");
        scenario.setup.forEach(sql -> header.add("  " + sql + ";"));
        header.add("");
        header.add("SQL run after, in one session (autocommit outside BEGIN ... COMMIT/ROLLBACK), then a wait for the WAL flush:");
        scenario.changes.forEach(sql -> header.add("  " + sql + ";"));
        header.add("");
        header.add("Regenerate: mvn -B verify -Dit.test=PgOutputFixturesIT -Dtest=none"
                + " -Dsurefire.failIfNoSpecifiedTests=false -Dpgoutput.fixtures.write=true");
        header.add("One message per line: <lsn> <xid> <message bytes in hex>; lsn and xid are the function's own columns.");
        return header;
    }
}
