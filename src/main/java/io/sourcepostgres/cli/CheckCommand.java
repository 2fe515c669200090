package io.sourcepostgres.cli;

import io.sourcepostgres.airbyte.AirbyteOutput;
import io.sourcepostgres.airbyte.ConnectorException;
import io.sourcepostgres.airbyte.LogLevel;
import io.sourcepostgres.config.ConnectorConfig;
import io.sourcepostgres.postgres.PgConnections;
import io.sourcepostgres.postgres.Prerequisites;
import io.sourcepostgres.postgres.Problem;
import io.sourcepostgres.postgres.ReplicationProbe;
import io.sourcepostgres.postgres.ServerInfo;
import io.sourcepostgres.postgres.Sql;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.postgresql.jdbc.PgConnection;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * Tells whether a read would start, as exactly one CONNECTION_STATUS. A configuration that cannot be read or
 * fails the spec is a TRACE ERROR and a non-zero exit, like every other command; anything found once the
 * configuration is valid (unreachable server, credentials, server settings, privileges, slot, publication)
 * is a FAILED status naming every problem and its fix, with exit code 0. Creates nothing.
 */
@Command(name = "check", description = "Check that the server is reachable and ready for a capture; creates nothing.")
final class CheckCommand implements Callable<Integer> {
    private final AirbyteOutput out;

    @Mixin
    ConfigOption config;

    CheckCommand(AirbyteOutput out) {
        this.out = out;
    }

    @Override
    public Integer call() {
        ConnectorConfig cfg = config.load(out);
        PgConnections connections = new PgConnections(cfg);
        Prerequisites.Report report;
        try (PgConnection c = connections.openQuery()) {
            report = Prerequisites.evaluate(c, cfg);
        } catch (ConnectorException e) {
            out.log(LogLevel.DEBUG, "check failed", e);
            out.connectionStatus(false, e.getMessage());
            return Main.EXIT_OK;
        } catch (SQLException e) {
            out.log(LogLevel.DEBUG, "check failed", e);
            out.connectionStatus(false, "Checking the server at " + cfg.uri().describeHosts() + " failed: "
                    + e.getMessage() + ". Retry; if it fails again, check that user " + Sql.identifier(cfg.uri().user())
                    + " may read the system catalogs of database " + Sql.identifier(cfg.uri().database()) + ".");
            return Main.EXIT_OK;
        }

        ServerInfo server = report.server();
        out.log(LogLevel.INFO, "Connected to PostgreSQL " + server.version() + " at " + cfg.uri().describeHosts()
                + ", database " + Sql.identifier(server.database()) + ", as " + Sql.identifier(server.currentUser()));
        List<Problem> problems = new ArrayList<>(report.problems());
        if (problems.isEmpty()) {
            // Only the server can say whether it really lets this role stream; ask it once the catalog agrees.
            ReplicationProbe.problem(connections).ifPresent(problems::add);
        }
        if (problems.isEmpty()) {
            out.connectionStatus(true, readiness(report, cfg));
        } else {
            out.connectionStatus(false, Prerequisites.describe(problems));
        }
        return Main.EXIT_OK;
    }

    private static String readiness(Prerequisites.Report report, ConnectorConfig cfg) {
        ServerInfo server = report.server();
        String slot = report.slot().isPresent()
                ? "replication slot " + Sql.literal(cfg.slotName()) + " exists (pgoutput)"
                : "replication slot " + Sql.literal(cfg.slotName()) + " will be created (pgoutput) by the first read";
        String publication = report.publication().map(p -> "publication " + Sql.identifier(p.name()) + " exists"
                        + (p.allTables() ? " (FOR ALL TABLES)" : ""))
                .orElse("publication " + Sql.identifier(cfg.publicationName())
                        + " will be created FOR ALL TABLES by the first read");
        return "PostgreSQL " + server.version() + " is ready for capture as " + Sql.identifier(server.currentUser())
                + " in database " + Sql.identifier(server.database()) + ": wal_level = logical, " + slot + ", "
                + publication + ".";
    }
}
