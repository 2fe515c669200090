package io.sourcepostgres.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.time.Duration;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * One isolated capture for a test: its own database, slot and publication on a cluster, a config for the
 * connector, a catalog of chosen tables, and the state carried from run to run as an orchestrator would.
 * {@link #close()} drops the slot.
 */
public final class CaptureFixture implements AutoCloseable {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    public final PostgresCluster pg;
    public final String database;
    public final String slot;
    public final String publication;
    private final ObjectNode config;
    private final List<String[]> tables = new ArrayList<>();
    private final java.util.Set<String> fullRefresh = new java.util.HashSet<>();
    private final java.util.Map<String, List<String>> primaryKeys = new java.util.HashMap<>();
    private ObjectNode catalogOverride;
    private JsonNode state;

    public CaptureFixture(PostgresCluster pg) {
        this.pg = pg;
        this.database = pg.createDatabase("cap");
        String suffix = UUID.randomUUID().toString().replace("-", "").substring(0, 10);
        this.slot = "slot_" + suffix;
        this.publication = "pub_" + suffix;
        this.config = MAPPER.createObjectNode();
        config.put("connectionURI", pg.uri("postgres", null, database));
        config.put("slot_name", slot);
        config.put("publication_name", publication);
    }

    public ObjectNode config() {
        return config;
    }

    /** Runs SQL in the fixture's database as superuser. */
    public void sql(String... statements) {
        pg.execute(database, statements);
    }

    /** Adds a table (schema, name) to the catalog as an incremental stream. */
    /**
     * Creates the fixture's publication (for all tables) and slot now, before the test opens transactions of
     * its own: creating a slot waits for every running transaction to end.
     */
    public void createPublicationAndSlot() {
        sql("CREATE PUBLICATION " + publication + " FOR ALL TABLES",
                "SELECT pg_create_logical_replication_slot('" + slot + "', 'pgoutput')");
    }

    public CaptureFixture capture(String schema, String table) {
        tables.add(new String[] {schema, table});
        return this;
    }

    /** Makes the stream of {@code table} a full_refresh stream. */
    public CaptureFixture fullRefresh(String table) {
        fullRefresh.add(table);
        return this;
    }

    /** Sets the configured stream's primary_key override. */
    public CaptureFixture primaryKey(String table, String... columns) {
        primaryKeys.put(table, List.of(columns));
        return this;
    }

    /** Replaces the generated catalog with a given one. */
    public static final class Catalog {
        private Catalog() {}

        public static void set(CaptureFixture f, ObjectNode catalog) {
            f.catalogOverride = catalog;
        }
    }

    public ObjectNode catalog() {
        if (catalogOverride != null) {
            return catalogOverride;
        }
        ObjectNode catalog = MAPPER.createObjectNode();
        ArrayNode streams = catalog.putArray("streams");
        for (String[] t : tables) {
            ObjectNode s = streams.addObject();
            ObjectNode stream = s.putObject("stream");
            stream.put("name", t[1]);
            stream.put("namespace", t[0]);
            stream.putObject("json_schema").put("type", "object");
            stream.putArray("supported_sync_modes").add("full_refresh").add("incremental");
            s.put("sync_mode", fullRefresh.contains(t[1]) ? "full_refresh" : "incremental");
            s.put("destination_sync_mode", fullRefresh.contains(t[1]) ? "overwrite" : "append_dedup");
            if (primaryKeys.containsKey(t[1])) {
                ArrayNode pk = s.putArray("primary_key");
                for (String c : primaryKeys.get(t[1])) {
                    pk.addArray().add(c);
                }
            }
        }
        return catalog;
    }

    public JsonNode state() {
        return state;
    }

    public void setState(JsonNode newState) {
        this.state = newState;
    }

    /** Runs read in-process with the carried state, and carries its last STATE forward. */
    public ConnectorRun read() {
        return remember(Connector.run(args()));
    }

    /** Runs read through the real launcher as a process. */
    public ConnectorRun launch(long timeoutSeconds) {
        return remember(Connector.launch(timeoutSeconds, args()));
    }

    public String[] args() {
        List<String> args = new ArrayList<>(List.of("read", "--config", Connector.file(config).toString(),
                "--catalog", Connector.file(catalog()).toString()));
        if (state != null) {
            args.add("--state");
            args.add(Connector.file(state).toString());
        }
        return args.toArray(String[]::new);
    }

    private ConnectorRun remember(ConnectorRun run) {
        List<JsonNode> states = run.states();
        if (!states.isEmpty()) {
            state = states.get(states.size() - 1);
        }
        return run;
    }

    /** The slot's confirmed_flush_lsn as text, or null when the slot does not exist. */
    public String slotConfirmedFlush() {
        return scalar("SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = '" + slot + "'");
    }

    public String scalar(String sql) {
        try (Connection c = pg.connect(database); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(sql + ": " + e.getMessage(), e);
        }
    }

    /**
     * Waits until a backfill of this fixture's database has read a chunk while a transaction was writing its
     * table, and now waits for that writer to end: the connector then polls the writer's {@code txid_status}
     * (see backfill/TableWriters), which pg_stat_activity shows as its session's query. A server-side barrier:
     * the chunk's rows are read, the writer is still open. Fails after 120 s.
     */
    public void awaitBackfillWaitingForWriters() {
        String sql = "SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE datname = current_database()"
                + " AND pid <> pg_catalog.pg_backend_pid() AND query LIKE '%txid_status(%in progress%'";
        Await.until("a backfill of " + database + " waiting for a writer of its table", Duration.ofSeconds(120),
                () -> !"0".equals(scalar(sql)));
    }

    public static long lsn(String text) {
        return io.sourcepostgres.pgoutput.Lsn.parse(text);
    }

    public Path configFile() {
        return Connector.file(config);
    }

    @Override
    public void close() {
        pg.execute("postgres",
                "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = '" + slot
                        + "' AND active_pid IS NOT NULL");
        for (int i = 0; i < 50; i++) {
            String active = scalarIn("postgres", "SELECT active::text FROM pg_replication_slots WHERE slot_name = '" + slot + "'");
            if (active == null) {
                return;
            }
            if ("false".equals(active)) {
                pg.execute("postgres", "SELECT pg_drop_replication_slot('" + slot + "')");
                return;
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private String scalarIn(String db, String sql) {
        try (Connection c = pg.connect(db); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(sql + ": " + e.getMessage(), e);
        }
    }
}
