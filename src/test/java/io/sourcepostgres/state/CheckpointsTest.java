package io.sourcepostgres.state;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcepostgres.airbyte.AirbyteOutput;
import io.sourcepostgres.airbyte.Json;
import io.sourcepostgres.airbyte.Secrets;
import io.sourcepostgres.airbyte.StreamId;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The checkpoint policy: the seed's cadence while states are small, a bounded share of the output when large. */
class CheckpointsTest {

    private static CaptureState state(int streams) {
        Map<StreamId, StreamProgress> progress = new LinkedHashMap<>();
        for (int i = 0; i < streams; i++) {
            progress.put(new StreamId("public", "table_" + i), StreamProgress.ACTIVE);
        }
        return new CaptureState(1000, "7712162267251139603", "flow_slot", progress);
    }

    private static List<JsonNode> states(ByteArrayOutputStream bytes) throws IOException {
        List<JsonNode> states = new ArrayList<>();
        for (String line : bytes.toString(StandardCharsets.UTF_8).split("\n")) {
            JsonNode m = Json.MAPPER.readTree(line);
            if (m.path("type").asText().equals("STATE")) {
                states.add(m.get("state"));
            }
        }
        return states;
    }

    /** Commits of one record each, the record written as {@code recordBytes} of a log line. */
    private static void commits(Checkpoints c, AirbyteOutput out, int count, long fromPosition) {
        for (int i = 0; i < count; i++) {
            out.log(io.sourcepostgres.airbyte.LogLevel.INFO, "a record of about a hundred bytes, standing in for a real one");
            c.countRecord();
            c.advance(fromPosition + i);
            c.committed();
        }
    }

    @Test
    void aSmallStateFollowsEveryCommitAsTheSeedDid() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (AirbyteOutput out = new AirbyteOutput(bytes, new Secrets())) {
            Checkpoints c = new Checkpoints(out, state(3), true, Duration.ZERO);
            commits(c, out, 100, 2000);
            c.emitFinal();
        }
        List<JsonNode> states = states(bytes);
        assertThat(states).hasSize(100);
        assertThat(states.get(99).at("/global/shared_state/position").asText()).isEqualTo(io.sourcepostgres.pgoutput.Lsn.format(2099));
    }

    @Test
    void aLargeStateStaysAFewPercentOfABusyOutputAndNeverRepeats() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (AirbyteOutput out = new AirbyteOutput(bytes, new Secrets())) {
            // A frozen clock: only the output budget may space the states, however slow the machine is.
            Checkpoints c = new Checkpoints(out, state(2000), true, Duration.ZERO, () -> 0L);
            commits(c, out, 100_000, 2000);
            c.emitFinal();
            c.emitFinal(); // nothing moved since: no second, identical state
        }
        List<JsonNode> states = states(bytes);
        long stateBytes = 0;
        for (JsonNode s : states) {
            stateBytes += Json.MAPPER.writeValueAsString(s).length();
        }
        assertThat(states.size()).isBetween(1, 100);
        assertThat((double) stateBytes / bytes.size()).as("share of STATE bytes").isLessThanOrEqualTo(0.05);
        for (int i = 1; i < states.size(); i++) {
            assertThat(states.get(i).get("global")).isNotEqualTo(states.get(i - 1).get("global"));
        }
        // The last state is at the last commit.
        assertThat(states.get(states.size() - 1).at("/global/shared_state/position").asText())
                .isEqualTo(io.sourcepostgres.pgoutput.Lsn.format(2000 + 99_999));
    }

    @Test
    void aFewStreamsStateMadeLargeByImagesSetAsideIsWeighedAsLarge() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        // 3 streams, but 10,000 updates' images set aside (a backlog of rows updated again and again).
        com.fasterxml.jackson.databind.node.ArrayNode images = Json.MAPPER.createArrayNode();
        for (int i = 0; i < 10_000; i++) {
            com.fasterxml.jackson.databind.node.ObjectNode image = images.addObject();
            image.put("namespace", "public").put("stream", "table_0").put("lsn", 1500 + i).put("time", "2026-12-06T21:30:00Z");
            image.putArray("key").add(Integer.toString(i));
        }
        try (AirbyteOutput out = new AirbyteOutput(bytes, new Secrets())) {
            Checkpoints c = new Checkpoints(out, state(3), true, Duration.ZERO, () -> 0L);
            c.carry(() -> images);
            commits(c, out, 1000, 2000);
            c.emitFinal();
        }
        List<JsonNode> states = states(bytes);
        assertThat(states).as("the first state shows its weight; the rest wait for the output budget").hasSize(2);
        assertThat(states.get(1).at("/global/shared_state/unsent_images").size()).isEqualTo(10_000);
        assertThat(states.get(1).at("/global/shared_state/position").asText()).isEqualTo(io.sourcepostgres.pgoutput.Lsn.format(2999));
    }

    @Test
    void aLargeStateIsNotEmittedPerChunkOrPerKeepalive() {
        CheckpointPolicy adaptive = new CheckpointPolicy(Duration.ZERO);
        long large = 800_000;
        assertThat(adaptive.due(large, 1000, true, 0)).as("a chunk of a tiny table").isFalse();
        assertThat(adaptive.due(large, CheckpointPolicy.RECORD_BYTES_PER_STATE_BYTE * large, true, 0)).as("output budget reached").isTrue();
        assertThat(adaptive.due(large, 1000, true, CheckpointPolicy.MAX_INTERVAL_NANOS)).as("5 s of flowing records").isTrue();
        assertThat(adaptive.due(large, 0, false, CheckpointPolicy.MAX_INTERVAL_NANOS)).as("only the position moved").isFalse();
        assertThat(adaptive.due(large, 0, false, CheckpointPolicy.POSITION_ONLY_NANOS)).isTrue();
        assertThat(adaptive.due(2000, 0, false, 0)).as("small: the seed's cadence").isTrue();
        CheckpointPolicy configured = new CheckpointPolicy(Duration.ofMillis(200));
        assertThat(configured.due(2000, 1_000_000, true, 100_000_000L)).isFalse();
        assertThat(configured.due(2000, 0, true, 200_000_000L)).isTrue();
        assertThat(CheckpointPolicy.interval(1)).isEqualTo(CheckpointPolicy.MIN_INTERVAL_NANOS);
        assertThat(CheckpointPolicy.interval(1L << 30)).isEqualTo(CheckpointPolicy.MAX_INTERVAL_NANOS);
    }
}
