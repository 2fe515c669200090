// The demo's helpers, so that scripts/demo needs nothing but Java and Maven (no psql, no python): run as a
// single-file program against the connector's jar, which carries the PostgreSQL driver and Jackson:
//   java -cp target/source-postgres.jar scripts/Demo.java sql PORT DATABASE < statements.sql
//   java -cp target/source-postgres.jar scripts/Demo.java catalog DISCOVER_OUTPUT CONFIGURED_CATALOG
//   java -cp target/source-postgres.jar scripts/Demo.java last-state READ_OUTPUT STATE_FILE
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.List;

public class Demo {
    private static final ObjectMapper JSON = new ObjectMapper();

    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "sql" -> sql(Integer.parseInt(args[1]), args[2]);
            case "catalog" -> catalog(Path.of(args[1]), Path.of(args[2]));
            case "last-state" -> lastState(Path.of(args[1]), Path.of(args[2]));
            default -> throw new IllegalArgumentException("unknown command " + args[0]);
        }
    }

    /** Runs the SQL on stdin as the superuser of the throwaway server (trust authentication), all of it at once. */
    static void sql(int port, String database) throws Exception {
        String statements = new String(System.in.readAllBytes(), StandardCharsets.UTF_8);
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + database,
                "postgres", ""); Statement st = c.createStatement()) {
            st.execute(statements);
        }
    }

    /** Every discovered stream, configured for incremental capture as an orchestrator would. */
    static void catalog(Path discovered, Path out) throws Exception {
        JsonNode catalog = messages(discovered).stream().filter(m -> m.path("type").asText().equals("CATALOG"))
                .findFirst().orElseThrow(() -> new IllegalStateException("no CATALOG in " + discovered)).get("catalog");
        ObjectNode configured = JSON.createObjectNode();
        ArrayNode streams = configured.putArray("streams");
        for (JsonNode s : catalog.get("streams")) {
            ObjectNode c = streams.addObject();
            c.set("stream", s);
            c.put("sync_mode", "incremental").put("destination_sync_mode", "append_dedup");
            c.putArray("cursor_field").add("_ab_cdc_lsn");
            c.set("primary_key", s.has("source_defined_primary_key") ? s.get("source_defined_primary_key")
                    : JSON.createArrayNode());
        }
        JSON.writeValue(out.toFile(), configured);
    }

    /** The state of the last STATE message: what an orchestrator stores and passes to the next read. */
    static void lastState(Path read, Path out) throws Exception {
        JsonNode last = null;
        for (JsonNode m : messages(read)) {
            if (m.path("type").asText().equals("STATE")) {
                last = m.get("state");
            }
        }
        if (last == null) {
            throw new IllegalStateException("no STATE in " + read);
        }
        JSON.writeValue(out.toFile(), last);
    }

    static List<JsonNode> messages(Path file) throws Exception {
        return Files.readAllLines(file).stream().filter(l -> !l.isBlank()).map(l -> {
            try {
                return JSON.readTree(l);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }).toList();
    }
}
