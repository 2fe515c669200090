package io.sourcepostgres.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.sourcepostgres.testing.Connector;
import io.sourcepostgres.testing.ConnectorProcess;
import io.sourcepostgres.testing.ConnectorRun;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher's class-data-sharing archive (bin/source-postgres): the first run of a subcommand dumps the
 * classes it loaded, later runs map them. Every run here goes through the real launcher, and every stdout
 * line is checked to be an Airbyte message: the JVM must never write to stdout, whatever happens to the
 * archive.
 */
class ClassDataSharingIT {
    /** The JVM logs each class it loads and where from; a class mapped from our archive says "(top)". */
    private static final String CLASS_LOAD_LOG = "-Xmx384m -XX:+UseParallelGC -Xlog:class+load=info:stderr";
    private static final String FROM_ARCHIVE = "source: shared objects file (top)";

    @TempDir
    Path temp;

    @Test
    void theSecondSpecMapsTheArchiveTheFirstDumped() throws IOException {
        Path cache = temp.resolve("cds");
        Map<String, String> env = Map.of("SOURCE_POSTGRES_CDS_DIR", cache.toString(),
                "SOURCE_POSTGRES_JAVA_OPTS", CLASS_LOAD_LOG);

        ConnectorRun first = spec(env);
        assertThat(first.stderr()).as("the first run has no archive yet").doesNotContain(FROM_ARCHIVE);
        ConnectorRun second = spec(env);

        assertThat(second.stderr()).as("the second run maps the connector's classes from the archive")
                .contains(FROM_ARCHIVE).contains("io.sourcepostgres.cli.Main " + FROM_ARCHIVE);
        assertThat(files(cache)).as("one archive, nothing left of the dump").singleElement().asString()
                .matches(".*/spec-[0-9]+\\.[0-9]+\\.jsa");
        assertThat(spec(env).stderr()).as("and so does the third").contains(FROM_ARCHIVE);
    }

    @Test
    void jvmWarningsGoToStderrNotToTheProtocolChannel() throws IOException {
        // Without huge pages configured, -XX:+UseLargePages makes the JVM log a warning, on stdout by default.
        assumeThat(Files.readAllLines(Path.of("/proc/meminfo"))).as("no huge pages configured")
                .anyMatch(l -> l.matches("HugePages_Total:\\s+0"));
        Map<String, String> env = Map.of("SOURCE_POSTGRES_CDS_DIR", temp.resolve("cds").toString(),
                "SOURCE_POSTGRES_JAVA_OPTS", "-Xmx384m -XX:+UseLargePages");

        ConnectorRun run = spec(env); // fails on a stdout line that is no Airbyte message

        assertThat(run.stderr()).contains("[warning]").contains("UseLargePages disabled");
    }

    @Test
    void aFlightRecordingStartedByTheUserLogsNothingOnStdoutAndIsMade() throws IOException {
        // JFR logs its start-up lines to stdout whatever -Xlog:all says, unless jfr+startup has a level of its own;
        // and a run that dumps an archive disables JFR (with a warning on stderr).
        Path recordings = Files.createDirectories(temp.resolve("jfr"));
        Map<String, String> env = Map.of("SOURCE_POSTGRES_CDS_DIR", temp.resolve("cds").toString(),
                "SOURCE_POSTGRES_JAVA_OPTS", "-Xmx384m -XX:StartFlightRecording=filename=" + recordings + "/");

        ConnectorRun run = spec(env); // fails on a stdout line that is no Airbyte message

        assertThat(run.stderr()).isEmpty();
        assertThat(files(recordings)).as("the recording was made").isNotEmpty();
    }

    @Test
    void aDebuggerAgentInJavaToolOptionsMeansNoDump() {
        // Java 17 refuses to start when asked to dump with a native JVMTI agent loaded (quiet=y: jdwp itself
        // announces its port on stdout).
        Map<String, String> env = Map.of("SOURCE_POSTGRES_CDS_DIR", temp.resolve("cds").toString(),
                "JAVA_TOOL_OPTIONS", "-agentlib:jdwp=transport=dt_socket,server=y,suspend=n,quiet=y,address=127.0.0.1:0");

        ConnectorRun run = Connector.launch(env, 120, "spec");

        assertThat(run.exitCode()).as(run.toString()).isZero();
        assertThat(temp.resolve("cds")).doesNotExist();
    }

    @Test
    void aDamagedArchiveMeansANormalStart() throws IOException {
        Path cache = temp.resolve("cds");
        Map<String, String> env = Map.of("SOURCE_POSTGRES_CDS_DIR", cache.toString());
        spec(env);
        spec(env);
        Path archive = onlyArchive(cache);

        try (RandomAccessFile f = new RandomAccessFile(archive.toFile(), "rw")) {
            f.seek(f.length() / 2);
            f.write("this is no class data".getBytes());
        }
        ConnectorRun overwritten = spec(env);
        assertThat(overwritten.stderr()).as("nothing on stderr either").isEmpty();

        // Java 17 crashes on an archive cut short (SIGBUS, and its crash report on stdout).
        try (RandomAccessFile f = new RandomAccessFile(archive.toFile(), "rw")) {
            f.setLength(f.length() / 2);
        }
        ConnectorRun truncated = spec(env);
        assertThat(truncated.stderr()).isEmpty();

        spec(env); // dumps again
        spec(env);
        assertThat(files(cache)).as("a new archive replaced the damaged one").singleElement();
    }

    @Test
    void concurrentFirstRunsDoNotBreakEachOther() throws IOException {
        Path cache = temp.resolve("cds");
        Map<String, String> env = Map.of("SOURCE_POSTGRES_CDS_DIR", cache.toString(),
                "SOURCE_POSTGRES_JAVA_OPTS", CLASS_LOAD_LOG);

        // Round 1 races for the dump; round 2 races for turning it into the archive; round 3 uses it.
        concurrentSpecs(env, 4);
        concurrentSpecs(env, 4);
        List<ConnectorRun> third = concurrentSpecs(env, 3);

        assertThat(third).allSatisfy(r -> assertThat(r.stderr()).contains(FROM_ARCHIVE));
        assertThat(files(cache)).singleElement().asString().endsWith(".jsa");
    }

    @Test
    void aDumpWhosePidWentToAnotherProgramIsStillUsed() throws Exception {
        Path cache = temp.resolve("cds");
        Map<String, String> env = Map.of("SOURCE_POSTGRES_CDS_DIR", cache.toString(),
                "SOURCE_POSTGRES_JAVA_OPTS", CLASS_LOAD_LOG);
        spec(env);
        Path lock = files(cache).stream().filter(p -> p.toString().endsWith(".lock")).findFirst().orElseThrow();
        String dumper = Files.readString(lock).trim();
        Path dump = cache.resolve(lock.getFileName().toString().replace(".lock", "." + dumper + ".tmp"));
        assertThat(dump).as("the first run dumped").isRegularFile();

        // The dumping JVM has exited; its pid now belongs to a program that lives on.
        Process other = new ProcessBuilder("sleep", "600").start();
        try {
            Files.writeString(lock, other.pid() + "\n");
            Files.move(dump, cache.resolve(dump.getFileName().toString().replace(dumper, Long.toString(other.pid()))));

            assertThat(spec(env).stderr()).as("the dump became the archive").contains(FROM_ARCHIVE);
        } finally {
            other.destroyForcibly();
        }
    }

    @Test
    void sourcePostgresCds0TurnsItOff() throws IOException {
        Path cache = temp.resolve("cds");
        Map<String, String> env = Map.of("SOURCE_POSTGRES_CDS_DIR", cache.toString(), "SOURCE_POSTGRES_CDS", "0",
                "SOURCE_POSTGRES_JAVA_OPTS", CLASS_LOAD_LOG);

        spec(env);
        ConnectorRun second = spec(env);

        assertThat(second.stderr()).doesNotContain(FROM_ARCHIVE);
        assertThat(cache).doesNotExist();
    }

    @Test
    void aCacheDirectoryThatCannotBeMadeIsNoFailure() throws IOException {
        // Below a regular file no directory can be made, not even by root (who may write to a chmod 555 one).
        Path file = Files.writeString(temp.resolve("a-file"), "");
        Map<String, String> env = Map.of("SOURCE_POSTGRES_CDS_DIR", file.resolve("cds").toString());

        assertThat(spec(env).stderr()).isEmpty();
        assertThat(spec(env).stderr()).isEmpty();
    }

    @Test
    void noHomeAndNoCacheDirectoryIsNoFailure() {
        // An orchestrator may start the connector with an empty environment (the launcher runs under set -u).
        Map<String, String> env = Map.of("PATH", System.getenv("PATH"));
        ConnectorRun run = Connector.launch(Connector.launcher(), temp, env, true, 120, "spec");

        assertThat(run.exitCode()).as(run.toString()).isZero();
        assertThat(run.ofType("SPEC")).hasSize(1);
        assertThat(run.stderr()).isEmpty();
    }

    /** One spec run through the launcher: exit code 0 and one SPEC; every stdout line is checked. */
    private static ConnectorRun spec(Map<String, String> env) {
        ConnectorRun run = Connector.launch(env, 120, "spec");
        assertThat(run.exitCode()).as(run.toString()).isZero();
        assertThat(run.ofType("SPEC")).as(run.toString()).hasSize(1);
        assertThat(run.messages()).as(run.toString()).hasSize(1);
        return run;
    }

    private static List<ConnectorRun> concurrentSpecs(Map<String, String> env, int n) {
        List<ConnectorProcess> started = new ArrayList<>();
        List<ConnectorRun> runs = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                started.add(ConnectorProcess.builder("spec").env(new HashMap<>(env)).start());
            }
            for (ConnectorProcess p : started) {
                ConnectorRun run = p.finish(Duration.ofSeconds(120));
                assertThat(run.exitCode()).as(run.toString()).isZero();
                assertThat(run.ofType("SPEC")).as(run.toString()).hasSize(1);
                runs.add(run);
            }
        } finally {
            started.forEach(ConnectorProcess::close);
        }
        return runs;
    }

    private static Path onlyArchive(Path cache) throws IOException {
        List<Path> files = files(cache);
        assertThat(files).as("the second run made the archive").singleElement().asString().endsWith(".jsa");
        return files.get(0);
    }

    private static List<Path> files(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.sorted().toList();
        }
    }
}
