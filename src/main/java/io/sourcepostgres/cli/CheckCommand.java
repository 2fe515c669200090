package io.sourcepostgres.cli;

import io.sourcepostgres.airbyte.AirbyteOutput;
import io.sourcepostgres.airbyte.ConnectorException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "check", description = "TODO")
final class CheckCommand implements Callable<Integer> {
    private final AirbyteOutput out;

    @Mixin
    ConfigOption config;

    CheckCommand(AirbyteOutput out) {
        this.out = out;
    }

    @Override
    public Integer call() {
        config.load(out);
        throw ConnectorException.system("check is not implemented yet", null);
    }
}
