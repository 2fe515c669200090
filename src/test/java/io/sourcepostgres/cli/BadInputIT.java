package io.sourcepostgres.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcepostgres.testing.CaptureFixture;
import io.sourcepostgres.testing.Connector;
import io.sourcepostgres.testing.ConnectorRun;
import io.sourcepostgres.testing.PostgresCluster;
import io.sourcepostgres.testing.PostgresExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Every way a user can hand the connector bad input, in one place: each ends with one clear message naming
 * what is wrong, failure_type {@code config_error}, a non-zero exit, and nothing a destination could apply
 * (no RECORD, no STATE) — and the slot is never advanced by such a run.
 */
@ExtendWith(PostgresExtension.class)
class BadInputIT {

    /** A working capture of one table with a row, already read once (so it has a state). */
    private static CaptureFixture started(PostgresCluster pg) {
        CaptureFixture f = new CaptureFixture(pg);
        f.sql("CREATE TABLE t (id int PRIMARY KEY, v text)", "CREATE TABLE only_full (id int PRIMARY KEY)",
                "INSERT INTO t VALUES (1, 'one')");
        f.capture("public", "t");
        ConnectorRun first = f.read();
        assertThat(first.exitCode()).as(first.toString()).isZero();
        f.sql("INSERT INTO t VALUES (2, 'two')"); // a change a wrongly accepted run would emit
        return f;
    }

    private static void assertRefused(ConnectorRun run, String... fragments) {
        assertThat(run.exitCode()).as(run.toString()).isNotZero();
        assertThat(run.records()).as(run.toString()).isEmpty();
        assertThat(run.states()).as(run.toString()).isEmpty();
        assertThat(run.error().get("failure_type").asText()).as(run.toString()).isEqualTo("config_error");
        assertThat(run.error().get("message").asText()).as(run.toString()).contains(fragments);
    }

    private static String[] read(Path config, Path catalog, Path state) {
        List<String> args = new ArrayList<>(List.of("read", "--config", config.toString(), "--catalog", catalog.toString()));
        if (state != null) {
            args.add("--state");
            args.add(state.toString());
        }
        return args.toArray(String[]::new);
    }

    private static String[] read(CaptureFixture f, Path config, Path catalog) {
        return read(config, catalog, Connector.file(f.state()));
    }

    private static Path catalogFile(CaptureFixture f) {
        return Connector.file(f.catalog());
    }

    @Test
    void configThatIsNotJsonIsRefusedWithoutQuotingIt(PostgresCluster pg) {
        try (CaptureFixture f = started(pg)) {
            Path config = Connector.file("{\"connectionURI\": \"postgres://u:s3cret@h/db\", oops");
            ConnectorRun run = Connector.run(read(f, config, catalogFile(f)));
            assertRefused(run, "config file", "not valid JSON", "line 1");
            assertThat(run.stdout() + run.stderr()).doesNotContain("s3cret");
            assertRefused(Connector.run("check", "--config", config.toString()), "not valid JSON");
            assertRefused(Connector.run("discover", "--config", config.toString()), "not valid JSON");
        }
    }

    @Test
    void configViolatingTheSpecIsRefusedNamingTheField(PostgresCluster pg) {
        try (CaptureFixture f = started(pg)) {
            ObjectNode config = f.config().deepCopy();
            config.put("backfill_chunk_size", 0);
            assertRefused(Connector.run(read(f, Connector.file(config), catalogFile(f))), "backfill_chunk_size");
            ObjectNode wrongType = f.config().deepCopy();
            wrongType.put("tail", "yes");
            assertRefused(Connector.run(read(f, Connector.file(wrongType), catalogFile(f))), "tail");
            ObjectNode noUri = f.config().deepCopy();
            noUri.remove("connectionURI");
            assertRefused(Connector.run(read(f, Connector.file(noUri), catalogFile(f))), "connectionURI");
        }
    }

    @Test
    void unknownConfigKeysAreRefusedNamingThem(PostgresCluster pg) {
        try (CaptureFixture f = started(pg)) {
            ObjectNode config = f.config().deepCopy();
            config.put("slot_nmae", "typo");
            assertRefused(Connector.run(read(f, Connector.file(config), catalogFile(f))), "slot_nmae");
            assertRefused(Connector.run("check", "--config", Connector.file(config).toString()), "slot_nmae");
        }
    }

    @Test
    void catalogThatIsNotJsonIsRefused(PostgresCluster pg) {
        try (CaptureFixture f = started(pg)) {
            assertRefused(Connector.run(read(f, f.configFile(), Connector.file("{\"streams\": [ }"))), "catalog file",
                    "not valid JSON");
            assertRefused(Connector.run(read(f, f.configFile(), Connector.file("[]"))), "catalog", "streams");
        }
    }

    @Test
    void catalogNamingAStreamThatDoesNotExistIsRefusedNamingIt(PostgresCluster pg) {
        try (CaptureFixture f = started(pg)) {
            f.capture("public", "no_such_table");
            assertRefused(Connector.run(read(f, f.configFile(), catalogFile(f))), "no_such_table", "discover");
        }
    }

    @Test
    void aKeyColumnThatDoesNotExistIsRefusedNamingIt(PostgresCluster pg) {
        try (CaptureFixture f = started(pg)) {
            f.primaryKey("t", "ID"); // names are case-sensitive: the column is id
            assertRefused(Connector.run(read(f, f.configFile(), catalogFile(f))), "primary_key", "\"ID\"");
        }
    }

    @Test
    void aSyncModeTheStreamDoesNotSupportIsRefused(PostgresCluster pg) {
        try (CaptureFixture f = started(pg)) {
            ObjectNode catalog = f.catalog().deepCopy();
            ObjectNode entry = (ObjectNode) catalog.get("streams").get(0);
            ((ObjectNode) entry.get("stream")).putArray("supported_sync_modes").add("full_refresh");
            assertRefused(Connector.run(read(f, f.configFile(), Connector.file(catalog))), "sync_mode 'incremental'",
                    "supported_sync_modes");
            entry.put("sync_mode", "cdc");
            assertRefused(Connector.run(read(f, f.configFile(), Connector.file(catalog))), "sync_mode 'cdc'");
        }
    }

    @Test
    void stateThatIsNotJsonIsRefused(PostgresCluster pg) {
        try (CaptureFixture f = started(pg)) {
            assertRefused(Connector.run(read(f.configFile(), catalogFile(f), Connector.file("{\"type\": GLOBAL"))),
                    "state file", "not valid JSON");
        }
    }

    @Test
    void stateOfAnotherConnectorVersionOrServerIsRefused(PostgresCluster pg) {
        try (CaptureFixture f = started(pg)) {
            ObjectNode otherVersion = f.state().deepCopy();
            ((ObjectNode) otherVersion.at("/global/shared_state")).put("state_version", 99);
            assertRefused(Connector.run(read(f.configFile(), catalogFile(f), Connector.file(otherVersion))), "state");

            ObjectNode otherServer = f.state().deepCopy();
            ((ObjectNode) otherServer.at("/global/shared_state")).put("system_identifier", "7000000000000000001");
            assertRefused(Connector.run(read(f.configFile(), catalogFile(f), Connector.file(otherServer))),
                    "another PostgreSQL cluster", "7000000000000000001");
        }
    }

    @Test
    void missingFilesAreRefusedNamingThem(PostgresCluster pg) {
        try (CaptureFixture f = started(pg)) {
            Path missing = Path.of("/nonexistent/dir/input.json");
            assertRefused(Connector.run(read(missing, catalogFile(f), null)), "config file", missing.toString(), "does not exist");
            assertRefused(Connector.run(read(f.configFile(), missing, null)), "catalog file", missing.toString(), "does not exist");
            assertRefused(Connector.run(read(f.configFile(), catalogFile(f), missing)), "state file", missing.toString(),
                    "does not exist");
        }
    }

    @Test
    void directoriesAndEmptyFilesAreRefusedNamingThem(PostgresCluster pg) throws Exception {
        try (CaptureFixture f = started(pg)) {
            Path dir = Files.createTempDirectory("not-a-file");
            assertRefused(Connector.run(read(dir, catalogFile(f), null)), "config file", "directory");
            assertRefused(Connector.run(read(f.configFile(), dir, null)), "catalog file", "directory");
            assertRefused(Connector.run(read(f.configFile(), catalogFile(f), dir)), "state file", "directory");
            assertRefused(Connector.run(read(f.configFile(), catalogFile(f), Connector.file(""))), "state file", "empty");
            Files.delete(dir);
        }
    }

    /**
     * chmod 000 does not stop root, and tests run as root: the real launcher runs as the unprivileged
     * {@code postgres} user instead (runuser), so the permission check is the operating system's own.
     */
    @Test
    void unreadableFilesAreRefusedNamingThem(PostgresCluster pg) throws Exception {
        try (CaptureFixture f = started(pg)) {
            Path dir = Files.createTempDirectory("bad-input");
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            Path config = Files.writeString(dir.resolve("config.json"), f.config().toString());
            Path catalog = Files.writeString(dir.resolve("catalog.json"), f.catalog().toString());
            Path state = Files.writeString(dir.resolve("state.json"), f.state().toString());
            for (Path p : List.of(config, catalog, state)) {
                Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("r--r--r--"));
            }
            Path launcher = dir.resolve("as-postgres");
            Files.writeString(launcher, "#!/bin/sh\nexec runuser -u postgres -- " + Connector.launcher() + " \"$@\"\n");
            Files.setPosixFilePermissions(launcher, PosixFilePermissions.fromString("rwxr-xr-x"));
            String[][] cases = {{"config", config.toString()}, {"catalog", catalog.toString()}, {"state", state.toString()}};
            for (String[] c : cases) {
                Path unreadable = Path.of(c[1]);
                Files.setPosixFilePermissions(unreadable, PosixFilePermissions.fromString("---------"));
                ConnectorRun run = Connector.launch(launcher, dir, Map.of(), false, 60, read(config, catalog, state));
                assertRefused(run, "The " + c[0] + " file " + unreadable, "permission denied");
                Files.setPosixFilePermissions(unreadable, PosixFilePermissions.fromString("r--r--r--"));
            }
            // The same files, readable, work for that user: the refusals above were the permissions alone.
            ConnectorRun ok = Connector.launch(launcher, dir, Map.of(), false, 60, read(config, catalog, state));
            assertThat(ok.exitCode()).as(ok.toString()).isZero();
            assertThat(ok.records()).hasSize(1);
        }
    }

    @Test
    void noRefusedRunMovesTheSlot(PostgresCluster pg) {
        try (CaptureFixture f = started(pg)) {
            String before = f.slotConfirmedFlush();
            ObjectNode catalog = f.catalog().deepCopy();
            ArrayNode streams = (ArrayNode) catalog.get("streams");
            ((ObjectNode) streams.get(0)).putArray("primary_key").addArray().add("nope");
            assertRefused(Connector.run(read(f, f.configFile(), Connector.file(catalog))), "nope");
            assertThat(f.slotConfirmedFlush()).isEqualTo(before);
            ConnectorRun good = f.read();
            assertThat(good.exitCode()).as(good.toString()).isZero();
            assertThat(good.records()).extracting(r -> r.at("/data/id").asInt()).containsExactly(2);
        }
    }
}
