package io.sourcepostgres.cli;

import io.sourcepostgres.airbyte.AirbyteOutput;
import io.sourcepostgres.config.Spec;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "spec", description = "Print the connector's configuration schema as an Airbyte SPEC message.")
final class SpecCommand implements Callable<Integer> {
    private final AirbyteOutput out;

    SpecCommand(AirbyteOutput out) {
        this.out = out;
    }

    @Override
    public Integer call() {
        out.spec(Spec.connectorSpecification());
        return Main.EXIT_OK;
    }
}
