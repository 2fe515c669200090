package io.sourcepostgres.cli;

import io.sourcepostgres.airbyte.AirbyteOutput;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.sourcepostgres.config.AirbyteShape;
import io.sourcepostgres.config.ConnectionUri;
import io.sourcepostgres.config.ConnectorConfig;
import io.sourcepostgres.config.InputFiles;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The --config option shared by check, discover and read; loading it also registers the secrets for redaction. */
final class ConfigOption {
    @Option(names = "--config", required = true, paramLabel = "FILE", description = "connector configuration (JSON)")
    Path path;

    ConnectorConfig load(AirbyteOutput out) {
        var json = InputFiles.readJson(path, "config", true);
        // Register any password before validation, so that even a failure message cannot carry it.
        if (json.isObject()) {
            out.secrets().register(json.path("password").isTextual() ? json.get("password").asText() : null);
            if (json.path("connectionURI").isTextual()) {
                try {
                    ConnectionUri uri = ConnectionUri.parse(json.get("connectionURI").asText());
                    out.secrets().register(uri.password());
                    out.secrets().register(uri.parameter("sslpassword"));
                    if (AirbyteShape.isInlinePem(uri.parameter("sslkey"))) {
                        registerKey(out, TextNode.valueOf(uri.parameter("sslkey")));
                    }
                } catch (RuntimeException ignored) {
                    // an unparsable URI is reported by validation below
                }
            }
            JsonNode ssl = json.path("ssl_mode");
            registerKey(out, ssl.path("client_key"));
            register(out, ssl.path("client_key_password"));
            JsonNode tunnel = json.path("tunnel_method");
            registerKey(out, tunnel.path("ssh_key"));
            register(out, tunnel.path("tunnel_user_password"));
        }
        ConnectorConfig config = ConnectorConfig.from(json);
        out.setLogLevel(config.logLevel());
        return config;
    }

    private static void register(AirbyteOutput out, JsonNode secret) {
        if (secret.isTextual()) {
            out.secrets().register(secret.asText());
        }
    }

    /**
     * A private key is registered whole, and line by line too: a library message could quote one line of it, and
     * JSON text shows its line breaks as escapes, so the whole text would not match there.
     */
    private static void registerKey(AirbyteOutput out, JsonNode key) {
        if (!key.isTextual()) {
            return;
        }
        String text = key.asText();
        out.secrets().register(text);
        out.secrets().register(text.strip());
        for (String line : text.replace("\\n", "\n").split("\\R|\\\\n")) {
            String l = line.strip();
            if (l.length() >= 16 && !l.startsWith("-----")) {
                out.secrets().register(l);
            }
        }
    }
}
