package io.sourcepostgres.cli;

import io.sourcepostgres.airbyte.AirbyteOutput;
import io.sourcepostgres.airbyte.ConnectorException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "discover", description = "TODO")
final class DiscoverCommand implements Callable<Integer> {
    private final AirbyteOutput out;

    @Mixin
    ConfigOption config;

    DiscoverCommand(AirbyteOutput out) {
        this.out = out;
    }

    @Override
    public Integer call() {
        config.load(out);
        throw ConnectorException.system("discover is not implemented yet", null);
    }
}
