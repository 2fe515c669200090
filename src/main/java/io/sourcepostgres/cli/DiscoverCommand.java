package io.sourcepostgres.cli;

import io.sourcepostgres.airbyte.AirbyteOutput;
import io.sourcepostgres.airbyte.LogLevel;
import io.sourcepostgres.config.ConnectorConfig;
import io.sourcepostgres.discovery.CatalogJson;
import io.sourcepostgres.discovery.DiscoveredTable;
import io.sourcepostgres.discovery.TableCatalog;
import io.sourcepostgres.postgres.PgConnections;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.Callable;
import org.postgresql.jdbc.PgConnection;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "discover", description = "Print one stream per table (and partitioned table) as an Airbyte CATALOG message.")
final class DiscoverCommand implements Callable<Integer> {
    private final AirbyteOutput out;

    @Mixin
    ConfigOption config;

    DiscoverCommand(AirbyteOutput out) {
        this.out = out;
    }

    @Override
    public Integer call() {
        ConnectorConfig cfg = config.load(out);
        TableCatalog catalog;
        PgConnection connection = new PgConnections(cfg).openQuery();
        try {
            catalog = TableCatalog.read(connection, cfg.publicationName());
        } finally {
            PgConnections.closeQuietly(connection);
        }
        logSummary(catalog, cfg);
        ObjectNode json = CatalogJson.of(catalog, cfg.createPublication());
        if (cfg.schemas() != null) {
            keepSchemas(json, cfg.schemas());
        }
        out.catalog(json);
        return Main.EXIT_OK;
    }

    /** The schemas setting: only streams whose namespace is listed (exactly, case-sensitive, as Airbyte's). */
    private void keepSchemas(ObjectNode catalog, List<String> schemas) {
        ArrayNode streams = (ArrayNode) catalog.get("streams");
        int before = streams.size();
        for (Iterator<JsonNode> it = streams.iterator(); it.hasNext(); ) {
            if (!schemas.contains(it.next().path("namespace").asText())) {
                it.remove();
            }
        }
        out.log(LogLevel.INFO, "schemas " + schemas + ": listing " + streams.size() + " of " + before + " streams.");
    }

    private void logSummary(TableCatalog catalog, ConnectorConfig cfg) {
        long notPublished = catalog.tables().stream().filter(t -> !t.inPublication()).count();
        long notSelectable = catalog.tables().stream().filter(t -> !t.selectable()).count();
        StringBuilder line = new StringBuilder("Discovered ").append(catalog.tables().size()).append(" tables");
        if (!catalog.publication().exists()) {
            line.append("; publication \"").append(cfg.publicationName()).append("\" does not exist")
                    .append(cfg.createPublication() ? " yet: read will create it FOR ALL TABLES"
                            : " and create_publication is off: no changes are captured until it is created");
        } else if (notPublished > 0) {
            line.append("; ").append(notPublished).append(" not in publication \"").append(cfg.publicationName())
                    .append("\", whose changes are not captured");
        }
        if (notSelectable > 0) {
            line.append("; ").append(notSelectable).append(" that user \"").append(catalog.user())
                    .append("\" cannot SELECT");
        }
        if (notPublished > 0 || notSelectable > 0 || !catalog.publication().exists()) {
            line.append(" (each stream's description says what to run)");
        }
        out.log(LogLevel.INFO, line.append('.').toString());
        if (out.isEnabled(LogLevel.DEBUG)) {
            for (DiscoveredTable t : catalog.tables()) {
                out.log(LogLevel.DEBUG, "Table " + t.id().quoted() + ": " + t.columns().size() + " columns, primary key "
                        + t.primaryKey() + (t.inPublication() ? ", published" : ", not published"));
            }
        }
    }
}
