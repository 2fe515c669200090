package io.sourcepostgres.discovery;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/** Turns a {@link TableCatalog} into the Airbyte catalog that {@code discover} prints: one stream per table. */
public final class CatalogJson {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private CatalogJson() {}

    /**
     * The {@code AirbyteCatalog}: {@code {"streams": [...]}} in the catalog's order (namespace, then name).
     *
     * @param createPublication the configured {@code create_publication}, which decides what a missing
     *     publication means for the streams
     */
    public static ObjectNode of(TableCatalog catalog, boolean createPublication) {
        TableNotes notes = new TableNotes(catalog, createPublication);
        ObjectNode root = NODES.objectNode();
        ArrayNode streams = root.putArray("streams");
        for (DiscoveredTable table : catalog.tables()) {
            streams.add(stream(table, notes.of(table)));
        }
        return root;
    }

    /** One {@code AirbyteStream}; {@code notes}, when any, become its schema's description. */
    static ObjectNode stream(DiscoveredTable table, List<String> notes) {
        ObjectNode stream = NODES.objectNode();
        stream.put("name", table.id().name());
        stream.put("namespace", table.id().namespace());
        stream.set("json_schema", jsonSchema(table, notes));
        stream.putArray("supported_sync_modes").add("full_refresh").add("incremental");
        stream.put("source_defined_cursor", true);
        stream.putArray("default_cursor_field").add(CdcFields.LSN);
        if (!table.primaryKey().isEmpty()) {
            // Without one the field is left out: the stream is captured as an append-only history.
            ArrayNode key = stream.putArray("source_defined_primary_key");
            table.primaryKey().forEach(column -> key.addArray().add(column));
        }
        stream.put("is_resumable", true);
        return stream;
    }

    /** The stream's JSON Schema: every column in attnum order, then the CDC metadata fields. */
    public static ObjectNode jsonSchema(DiscoveredTable table, List<String> notes) {
        ObjectNode schema = NODES.objectNode();
        schema.put("type", "object");
        if (!notes.isEmpty()) {
            schema.put("description", String.join(" ", notes));
        }
        ObjectNode properties = schema.putObject("properties");
        for (ColumnInfo column : table.columns()) {
            properties.set(column.name(), column.jsonSchema());
        }
        CdcFields.addTo(properties); // replaces a column of the same name, which the notes point out
        return schema;
    }
}
