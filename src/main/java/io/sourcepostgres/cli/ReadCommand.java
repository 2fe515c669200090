package io.sourcepostgres.cli;

import io.sourcepostgres.airbyte.AirbyteOutput;
import io.sourcepostgres.airbyte.ConnectorException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "read", description = "Backfill and then stream the configured streams as Airbyte RECORD and STATE messages.")
final class ReadCommand implements Callable<Integer> {
    private final AirbyteOutput out;

    @Mixin
    ConfigOption config;

    @Option(names = "--catalog", required = true, paramLabel = "FILE", description = "configured catalog (JSON)")
    Path catalog;

    @Option(names = "--state", paramLabel = "FILE", description = "state from a previous run (JSON)")
    Path state;

    ReadCommand(AirbyteOutput out) {
        this.out = out;
    }

    @Override
    public Integer call() {
        config.load(out);
        throw ConnectorException.system("The read command is not implemented yet in this build.", null);
    }
}
