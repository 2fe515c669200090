package io.sourcepostgres.cli;

import picocli.CommandLine.Command;

@Command(
        name = "source-postgres",
        description = "Captures PostgreSQL changes through logical replication (pgoutput) as Airbyte protocol messages.",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        subcommands = {SpecCommand.class, CheckCommand.class, DiscoverCommand.class, ReadCommand.class})
final class RootCommand implements Runnable {
    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this),
                "a command is required: spec, check, discover or read");
    }
}
