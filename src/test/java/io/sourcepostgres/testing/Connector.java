package io.sourcepostgres.testing;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sourcepostgres.cli.Main;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs the connector the way an orchestrator does and hands back what it printed, having checked that
 * every stdout line is a valid Airbyte message. {@link #run} calls the CLI in this JVM (fast);
 * {@link #launch} runs the real launcher {@code bin/source-postgres} as a process (needs {@code mvn package}).
 */
public final class Connector {
    /** Records may hold 1000-digit numbers, long strings and deeply nested json values: no read limits. */
    private static final ObjectMapper MAPPER = new ObjectMapper(com.fasterxml.jackson.core.JsonFactory.builder()
            .streamReadConstraints(com.fasterxml.jackson.core.StreamReadConstraints.builder()
                    .maxNumberLength(Integer.MAX_VALUE).maxNestingDepth(100_000).maxStringLength(Integer.MAX_VALUE)
                    .build())
            .build());

    private Connector() {}

    /** Runs a command in-process. */
    public static ConnectorRun run(String... args) {
        ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        int code = Main.run(args, stdout);
        String text = stdout.toString(StandardCharsets.UTF_8);
        return new ConnectorRun(code, parse(text), text, "");
    }

    /** Runs the real launcher as a process, waiting at most {@code timeoutSeconds}. */
    public static ConnectorRun launch(long timeoutSeconds, String... args) {
        return launch(Map.of(), timeoutSeconds, args);
    }

    /** Runs the real launcher as a process with extra environment variables (e.g. HOME, SOURCE_POSTGRES_JAVA_OPTS). */
    public static ConnectorRun launch(Map<String, String> environment, long timeoutSeconds, String... args) {
        return launch(launcher(), null, environment, false, timeoutSeconds, args);
    }

    /**
     * Runs {@code launcher} as a process and returns every byte it wrote to stdout and stderr.
     *
     * @param workingDirectory where the process runs; null: this JVM's working directory
     * @param onlyEnvironment true: the process sees {@code environment} and nothing else of this JVM's environment
     */
    public static ConnectorRun launch(Path launcher, Path workingDirectory, Map<String, String> environment,
            boolean onlyEnvironment, long timeoutSeconds, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(launcher.toString());
        cmd.addAll(List.of(args));
        try {
            Path err = Files.createTempFile("connector-stderr", ".txt");
            ProcessBuilder builder = new ProcessBuilder(cmd).redirectError(err.toFile());
            if (workingDirectory != null) {
                builder.directory(workingDirectory.toFile());
            }
            if (onlyEnvironment) {
                builder.environment().clear();
            }
            builder.environment().putAll(environment);
            Process p = builder.start();
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("connector did not finish within " + timeoutSeconds + " s: " + cmd);
            }
            String stderr = Files.readString(err);
            Files.deleteIfExists(err);
            String text = new String(out, StandardCharsets.UTF_8);
            return new ConnectorRun(p.exitValue(), parse(text), text, stderr);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public static Path launcher() {
        return PostgresCluster.projectDir().resolve("bin/source-postgres");
    }

    /** Writes {@code json} to a temporary file and returns its path, for --config/--catalog/--state. */
    public static Path file(Object json) {
        try {
            Path f = Files.createTempFile("connector-input", ".json");
            f.toFile().deleteOnExit();
            Files.writeString(f, json instanceof String s ? s : MAPPER.writeValueAsString(json));
            return f;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Parses stdout line by line; every line must be one valid Airbyte message. */
    public static List<JsonNode> parse(String stdout) {
        List<JsonNode> messages = new ArrayList<>();
        for (String line : stdout.split("\n")) {
            if (line.isEmpty()) {
                continue;
            }
            JsonNode node;
            try {
                node = MAPPER.readTree(line);
            } catch (JsonProcessingException e) {
                throw new AssertionError("stdout line is not JSON: " + line, e);
            }
            ProtocolValidator.assertValidMessage(node);
            messages.add(node);
        }
        return messages;
    }
}
