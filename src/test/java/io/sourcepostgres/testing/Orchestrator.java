package io.sourcepostgres.testing;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Plays an orchestrator over a series of runs of the real launcher: keeps the records of each run up to
 * its last STATE (what an orchestrator commits), applies them to a {@link Destination}, and starts the
 * next run from that state. Across all runs it checks the per-key order guarantee: for each primary key,
 * {@code _ab_cdc_lsn} never decreases.
 */
public final class Orchestrator {
    private final CaptureFixture source;
    private final Destination destination;
    private final Map<String, List<String>> keyColumns;
    private final AppliedRecords.LsnOrder lsnOrder = new AppliedRecords.LsnOrder();
    private long recordsApplied;
    private int runs;

    public Orchestrator(CaptureFixture source, Destination destination, Map<String, List<String>> keyColumns) {
        this.source = source;
        this.destination = destination;
        this.keyColumns = keyColumns;
    }

    /** Starts a run from the current state; the caller finishes it and hands it to {@link #accept}. */
    public ConnectorProcess start() {
        return ConnectorProcess.builder(source.args()).start();
    }

    /** One complete run that must succeed; its records are applied and its last state carried forward. */
    public ConnectorRun run(Duration timeout) {
        try (ConnectorProcess p = start()) {
            ConnectorRun run = p.finish(timeout);
            assertThat(run.exitCode()).as("run %d: %s", runs + 1, run).isZero();
            assertThat(run.states()).as("run %d ends with a STATE", runs + 1).isNotEmpty();
            List<String> types = run.messages().stream().map(m -> m.path("type").asText()).toList();
            assertThat(types.lastIndexOf("STATE")).as("a successful run ends with a STATE after its last RECORD")
                    .isGreaterThan(types.lastIndexOf("RECORD"));
            return accept(run);
        }
    }

    /**
     * Commits what an orchestrator would commit of a run, successful or not: the records up to its last
     * STATE, then that state. Records after it are dropped; the next run emits them again.
     */
    public ConnectorRun accept(ConnectorRun run) {
        runs++;
        List<JsonNode> committed = new ArrayList<>();
        List<JsonNode> pending = new ArrayList<>();
        JsonNode lastState = null;
        for (JsonNode m : run.messages()) {
            String type = m.path("type").asText();
            if (type.equals("RECORD")) {
                pending.add(m.get("record"));
            } else if (type.equals("STATE")) {
                committed.addAll(pending);
                pending.clear();
                lastState = m.get("state");
            }
        }
        try {
            for (JsonNode r : committed) {
                String key = key(r);
                if (key != null) {
                    lsnOrder.check(key, r);
                }
            }
        } catch (AssertionError e) {
            throw new AssertionError("run " + runs + ": " + e.getMessage(), e);
        }
        destination.apply(committed, keyColumns);
        recordsApplied += committed.size();
        if (lastState != null) {
            source.setState(lastState);
        }
        return run;
    }

    public long recordsApplied() {
        return recordsApplied;
    }

    /** Fails unless every captured table has exactly the same rows in the source and the destination. */
    public void assertDestinationEqualsSource(String... qualifiedTables) {
        for (String table : qualifiedTables) {
            List<String> expected = Destination.rows(source.pg, source.database, table);
            List<String> actual = destination.rows(table);
            if (!actual.equals(expected)) {
                List<String> missing = new ArrayList<>(expected);
                missing.removeAll(actual);
                List<String> extra = new ArrayList<>(actual);
                extra.removeAll(expected);
                throw new AssertionError("after " + runs + " runs, " + table + " differs: " + expected.size()
                        + " rows in the source, " + actual.size() + " in the destination\n  only in the source: "
                        + head(missing) + "\n  only in the destination: " + head(extra));
            }
        }
    }

    /** The record's stream and key values: a key across all streams; null for a keyless stream. */
    private String key(JsonNode record) {
        String stream = record.get("stream").asText();
        List<String> key = keyColumns.get(stream);
        if (key == null || key.isEmpty()) {
            return null; // an append-only history has no key to order by
        }
        StringBuilder k = new StringBuilder(stream);
        for (String column : key) {
            k.append('|').append(record.get("data").get(column));
        }
        return k.toString();
    }

    private static String head(List<String> rows) {
        List<String> shown = rows.subList(0, Math.min(5, rows.size()));
        List<String> cut = new ArrayList<>();
        for (String r : shown) {
            cut.add(r.length() > 300 ? r.substring(0, 300) + "…" : r);
        }
        return rows.size() + " " + cut;
    }
}
