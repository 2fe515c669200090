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
import java.time.Duration;

/**
 * Runs the connector the way an orchestrator does and hands back what it printed, having checked that
 * every stdout line is a valid Airbyte message. {@link #run} calls the CLI in this JVM (fast);
 * {@link #launch} runs the real launcher {@code bin/source-postgres} as a process (needs {@code mvn package})
 * through {@link ConnectorProcess}, the one launcher of the tests, and waits for it to end.
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
        ConnectorProcess.Builder builder = ConnectorProcess.builder(args).launcher(launcher).env(environment);
        if (workingDirectory != null) {
            builder.directory(workingDirectory);
        }
        if (onlyEnvironment) {
            builder.onlyEnvironment();
        }
        try (ConnectorProcess p = builder.start()) {
            return p.finish(Duration.ofSeconds(timeoutSeconds));
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
            JsonNode node = json(line);
            ProtocolValidator.assertValidMessage(node);
            messages.add(node);
        }
        return messages;
    }

    /** One stdout line as JSON, whatever the size of its numbers, strings and nesting; fails unless it is JSON. */
    static JsonNode json(String line) {
        try {
            return MAPPER.readTree(line);
        } catch (JsonProcessingException e) {
            throw new AssertionError("stdout line is not JSON: " + line, e);
        }
    }
}
