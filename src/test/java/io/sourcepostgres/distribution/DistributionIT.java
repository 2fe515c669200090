package io.sourcepostgres.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcepostgres.testing.Connector;
import io.sourcepostgres.testing.ConnectorRun;
import io.sourcepostgres.testing.PostgresCluster;
import io.sourcepostgres.testing.PostgresExtension;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tarball 'mvn package' builds, unpacked far from the source tree and run the way a machine with only a
 * Java runtime would run it: no JAVA_HOME, PATH=/usr/bin:/bin, HOME and working directory in a fresh
 * directory. spec must print the spec and check must reach a real server.
 */
@ExtendWith(PostgresExtension.class)
class DistributionIT {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    @TempDir
    static Path machine;

    private static Path unpacked;

    @BeforeAll
    static void unpack() throws Exception {
        Path tarball = Paths.get(System.getProperty("connector.tarball"));
        assertThat(tarball).as("mvn package builds %s", tarball).isRegularFile();
        Path copy = Files.copy(tarball, machine.resolve(tarball.getFileName()));
        run(machine, "tar", "-xzf", copy.toString());
        unpacked = machine.resolve("source-postgres-" + System.getProperty("project.version"));
    }

    @Test
    void tarballHoldsTheLauncherTheJarAndTheReadmeOnly() throws IOException {
        List<String> files;
        try (Stream<Path> walk = Files.walk(unpacked)) {
            files = walk.filter(Files::isRegularFile).map(p -> unpacked.relativize(p).toString()).sorted().toList();
        }
        assertThat(files).containsExactly("README.md", "bin/source-postgres", "lib/source-postgres.jar");
        assertThat(Files.getPosixFilePermissions(unpacked.resolve("bin/source-postgres")))
                .contains(PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.GROUP_EXECUTE,
                        PosixFilePermission.OTHERS_EXECUTE);
    }

    @Test
    void specRunsWithOnlyAJavaRuntime() {
        ConnectorRun run = launch("spec");

        assertThat(run.exitCode()).as(run.toString()).isZero();
        assertThat(run.ofType("SPEC")).as(run.toString()).hasSize(1);
        assertThat(run.stderr()).as("nothing on stderr").isEmpty();
    }

    @Test
    void checkReachesARealServer(PostgresCluster pg) throws IOException {
        String db = pg.createDatabase("dist");
        ObjectNode config = MAPPER.createObjectNode();
        config.put("connectionURI", pg.uri("postgres", null, db));
        Path file = Files.writeString(machine.resolve("config-" + db + ".json"), MAPPER.writeValueAsString(config));

        ConnectorRun run = launch("check", "--config", file.toString());

        assertThat(run.exitCode()).as(run.toString()).isZero();
        assertThat(run.connectionStatus().get("status").asText()).as(run.toString()).isEqualTo("SUCCEEDED");
    }

    @Test
    void aMissingConfigIsAConfigErrorNotACrash() {
        ConnectorRun run = launch("check", "--config", machine.resolve("nope.json").toString());

        assertThat(run.exitCode()).isNotZero();
        assertThat(run.error().get("failure_type").asText()).isEqualTo("config_error");
        assertThat(run.error().get("message").asText()).contains("does not exist");
    }

    private static ConnectorRun launch(String... args) {
        // Nothing from this JVM's environment: no JAVA_HOME, no Maven, no project directory.
        Map<String, String> env = Map.of("PATH", "/usr/bin:/bin", "HOME", machine.toString(), "LANG", "C.UTF-8");
        return Connector.launch(unpacked.resolve("bin/source-postgres"), machine, env, true, 120, args);
    }

    private static void run(Path dir, String... cmd) throws Exception {
        Process p = new ProcessBuilder(List.of(cmd)).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(String.join(" ", cmd) + ": " + out).isZero();
    }
}
