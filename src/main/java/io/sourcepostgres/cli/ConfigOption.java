package io.sourcepostgres.cli;

import io.sourcepostgres.airbyte.AirbyteOutput;
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
                } catch (RuntimeException ignored) {
                    // an unparsable URI is reported by validation below
                }
            }
        }
        ConnectorConfig config = ConnectorConfig.from(json);
        out.setLogLevel(config.logLevel());
        return config;
    }
}
