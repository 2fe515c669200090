package io.sourcepostgres.cli;

import io.sourcepostgres.airbyte.AirbyteOutput;
import io.sourcepostgres.airbyte.ConfiguredCatalog;
import io.sourcepostgres.state.StateCodec;
import io.sourcepostgres.capture.CaptureRun;
import io.sourcepostgres.state.CaptureState;
import io.sourcepostgres.capture.ShutdownSignal;
import io.sourcepostgres.config.ConnectorConfig;
import io.sourcepostgres.config.InputFiles;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "read", description = "Backfill and then stream the configured streams as Airbyte RECORD and STATE messages.")
final class ReadCommand implements Callable<Integer> {
    /** How long a SIGTERM waits for the final STATE before the JVM exits anyway. */
    private static final long SHUTDOWN_GRACE_SECONDS = 30;

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
        ConnectorConfig cfg = config.load(out);
        ConfiguredCatalog configured = ConfiguredCatalog.fromJson(InputFiles.readJson(catalog, "catalog", false));
        Optional<CaptureState> input = state == null ? Optional.empty()
                : StateCodec.fromJson(InputFiles.readJson(state, "state", false));
        ConnectorConfig effective = cfg.withTail(cfg.tail() || configured.tail());
        ShutdownSignal shutdown = effective.tail() ? ShutdownSignal.install(SHUTDOWN_GRACE_SECONDS) : new ShutdownSignal();
        new CaptureRun(effective, configured, input, out, shutdown).run();
        return Main.EXIT_OK;
    }
}
