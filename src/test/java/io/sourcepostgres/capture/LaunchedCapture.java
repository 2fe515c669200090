package io.sourcepostgres.capture;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcepostgres.testing.ConnectorProcess;
import io.sourcepostgres.testing.ConnectorRun;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One run of the real launcher ({@link ConnectorProcess}) killed with SIGKILL at a chosen moment: a time
 * after its start, or as soon as it has printed a given number of states or records. Only complete lines
 * count: a line cut by the kill is not a message, and everything the connector wrote before it died is read.
 */
final class LaunchedCapture {
    /**
     * When to kill: after {@code afterMillis}, or once {@code afterStates} states or {@code afterRecords} records
     * were read (0: no such trigger).
     */
    record KillPlan(long afterMillis, int afterStates, int afterRecords) {
        static KillPlan never(long timeoutMillis) {
            return new KillPlan(-timeoutMillis, 0, 0);
        }

        boolean kills() {
            return afterMillis >= 0;
        }

        @Override
        public String toString() {
            return !kills() ? "no kill" : afterStates > 0 ? "kill after " + afterStates + " states"
                    : afterRecords > 0 ? "kill after " + afterRecords + " records" : "kill after " + afterMillis + " ms";
        }
    }

    /**
     * What one run printed: every complete stdout line as a message, whether it was killed, its exit code,
     * and its stderr.
     */
    record Result(List<JsonNode> messages, boolean killed, int exitCode, String stderr, long millis) {
        /** The messages an orchestrator keeps: everything up to and including the last STATE. */
        List<JsonNode> kept() {
            for (int i = messages.size() - 1; i >= 0; i--) {
                if ("STATE".equals(messages.get(i).path("type").asText())) {
                    return messages.subList(0, i + 1);
                }
            }
            return List.of();
        }

        /** The TRACE ERROR messages the run printed (a killed run prints none). */
        List<JsonNode> errors() {
            return messages.stream().filter(m -> "TRACE".equals(m.path("type").asText())
                    && "ERROR".equals(m.at("/trace/type").asText())).toList();
        }

        /** Records printed after the last STATE (a run that ends by itself ends with a state). */
        long recordsAfterLastState() {
            return messages.subList(kept().size(), messages.size()).stream()
                    .filter(m -> "RECORD".equals(m.path("type").asText())).count();
        }

        /** The last STATE's state object, or null when the run emitted none. */
        JsonNode lastState() {
            List<JsonNode> kept = kept();
            return kept.isEmpty() ? null : kept.get(kept.size() - 1).get("state");
        }
    }

    private LaunchedCapture() {}

    static Result run(String[] args, KillPlan plan) {
        long started = System.nanoTime();
        // Records are validated in bulk by the other tests; the structure of the rest matters here.
        try (ConnectorProcess p = ConnectorProcess.builder(args).unvalidatedRecords().start()) {
            if (plan.kills()) {
                boolean counting = plan.afterStates() > 0 || plan.afterRecords() > 0;
                long deadline = started + TimeUnit.MILLISECONDS.toNanos(counting ? 120_000 : plan.afterMillis());
                if (counting) {
                    String type = plan.afterStates() > 0 ? "STATE" : "RECORD";
                    p.awaitCountOrEnd(m -> type.equals(m.path("type").asText()),
                            Math.max(plan.afterStates(), plan.afterRecords()), deadline);
                } else {
                    // A random moment of the run, not a wait for something to happen: where the crash falls is the test.
                    p.awaitCountOrEnd(m -> false, 1, deadline);
                }
                p.kill();
            }
            ConnectorRun run = p.finish(Duration.ofMillis(plan.kills() ? 60_000 : -plan.afterMillis()));
            return new Result(run.messages(), p.killed(), run.exitCode(), run.stderr(),
                    (System.nanoTime() - started) / 1_000_000);
        }
    }
}
