package io.sourcepostgres.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * No Docker engine runs here, so the Dockerfile is read instead: Airbyte's connector conventions (entrypoint in
 * AIRBYTE_ENTRYPOINT and ENTRYPOINT, the io.airbyte.name and io.airbyte.version labels, a non-root user, a JRE
 * base image) and the image being built from the tarball 'mvn package' makes.
 */
class DockerfileTest {
    private static final String ENTRYPOINT = "/app/bin/source-postgres";
    private static List<String[]> instructions;

    @BeforeAll
    static void read() throws IOException {
        instructions = instructions(Files.readString(projectDir().resolve("Dockerfile")));
    }

    @Test
    void baseImageIsAJava17OrLaterRuntime() {
        List<String> from = arguments("FROM");
        assertThat(from).hasSize(1);
        Matcher m = Pattern.compile("eclipse-temurin:(\\d+)(\\.[\\d.]+)?-jre.*").matcher(from.get(0));
        assertThat(m.matches()).as("a Temurin JRE image: %s", from.get(0)).isTrue();
        assertThat(Integer.parseInt(m.group(1))).isGreaterThanOrEqualTo(17);
    }

    @Test
    void entrypointIsTheLauncherAndAirbyteEntrypointNamesIt() {
        assertThat(arguments("ENTRYPOINT")).containsExactly("[\"" + ENTRYPOINT + "\"]");
        assertThat(arguments("ENV")).contains("AIRBYTE_ENTRYPOINT=\"" + ENTRYPOINT + "\"");
    }

    @Test
    void labelsNameTheConnectorAndThePomVersion() throws IOException {
        assertThat(arguments("LABEL")).contains("io.airbyte.name=source-postgres",
                "io.airbyte.version=" + pomVersion());
    }

    @Test
    void runsAsANonRootUserTheImageCreates() {
        List<String> users = arguments("USER");
        assertThat(users).isNotEmpty();
        String user = users.get(users.size() - 1).split(":")[0];
        assertThat(user).isNotIn("root", "0");
        assertThat(arguments("RUN")).anySatisfy(run -> assertThat(run).contains("useradd").endsWith(" " + user));
        int userAt = indexOf("USER", users.size() - 1);
        int entrypointAt = indexOf("ENTRYPOINT", 0);
        assertThat(userAt).as("USER comes before ENTRYPOINT").isLessThan(entrypointAt);
    }

    @Test
    void imageIsBuiltFromTheTarballMavenPackageMakes() throws IOException {
        List<String> copies = new ArrayList<>(arguments("COPY"));
        copies.addAll(arguments("ADD"));
        assertThat(copies).anySatisfy(c -> assertThat(c).startsWith("target/source-postgres-*.tar.gz "));
        // The tarball holds source-postgres-<version>/bin/source-postgres; unpacked without that first level into /app.
        assertThat(arguments("RUN")).anySatisfy(run -> assertThat(run)
                .contains("tar -xzf /tmp/dist/source-postgres-*.tar.gz -C /app --strip-components=1"));
        String descriptor = Files.readString(projectDir().resolve("src/assembly/tarball.xml")).replaceAll("\\s+", "");
        assertThat(descriptor).contains("<source>bin/source-postgres</source><outputDirectory>bin</outputDirectory>")
                .contains("<baseDirectory>source-postgres-${project.version}</baseDirectory>");
    }

    // ---- a Dockerfile reader just big enough for these checks ------------------------------------------------

    private static List<String> arguments(String instruction) {
        List<String> args = new ArrayList<>();
        for (String[] i : instructions) {
            if (i[0].equals(instruction)) {
                args.add(i[1]);
            }
        }
        return args;
    }

    private static int indexOf(String instruction, int occurrence) {
        int seen = 0;
        for (int i = 0; i < instructions.size(); i++) {
            if (instructions.get(i)[0].equals(instruction) && seen++ == occurrence) {
                return i;
            }
        }
        return -1;
    }

    /** Each instruction as {KEYWORD, arguments}, continuation lines joined, comments dropped. */
    static List<String[]> instructions(String dockerfile) {
        List<String[]> out = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String line : dockerfile.split("\n")) {
            String trimmed = line.strip();
            if (trimmed.startsWith("#") || (trimmed.isEmpty() && current.length() == 0)) {
                continue;
            }
            boolean continues = trimmed.endsWith("\\");
            current.append(continues ? trimmed.substring(0, trimmed.length() - 1).strip() : trimmed).append(' ');
            if (!continues) {
                String text = current.toString().strip().replaceAll("\\s+", " ");
                current.setLength(0);
                int space = text.indexOf(' ');
                out.add(new String[] {text.substring(0, space).toUpperCase(), text.substring(space + 1)});
            }
        }
        return out;
    }

    private static String pomVersion() throws IOException {
        String pom = Files.readString(projectDir().resolve("pom.xml"));
        Matcher m = Pattern.compile("<artifactId>source-postgres</artifactId>\\s*<version>([^<]+)</version>").matcher(pom);
        assertThat(m.find()).isTrue();
        return m.group(1);
    }

    private static Path projectDir() {
        String dir = System.getProperty("project.basedir");
        return dir != null ? Paths.get(dir) : Paths.get("").toAbsolutePath();
    }
}
