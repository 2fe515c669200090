package io.sourcepostgres.state;

import io.sourcepostgres.airbyte.AirbyteOutput;
import io.sourcepostgres.airbyte.ConnectorException;
import io.sourcepostgres.airbyte.Secrets;
import io.sourcepostgres.airbyte.Json;
import io.sourcepostgres.airbyte.StreamId;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.io.StringWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The state both ways: what the connector writes reads back as the same state, however it is passed back. */
class StateCodecTest {

    private static CaptureState sample() {
        Map<StreamId, StreamProgress> streams = new LinkedHashMap<>();
        ArrayNode key = Json.MAPPER.createArrayNode().add("Zoë \"q\"").addNull().add("42");
        streams.put(new StreamId("public", "orders"), new StreamProgress(StreamProgress.Phase.BACKFILLING, key, 1500));
        streams.put(new StreamId("public", "customers"), StreamProgress.ACTIVE);
        streams.put(new StreamId(null, "bare"), StreamProgress.PENDING);
        return new CaptureState(0x1_016B_3748L, "7712162267251139603", "flow_slot", streams);
    }

    /** The STATE body as the connector writes it: the output's STATE line without its envelope. */
    private static String written(CaptureState state, long records) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (AirbyteOutput out = new AirbyteOutput(bytes, new Secrets())) {
            out.state(StateCodec.message(state, Json.MAPPER.writeValueAsString(StateCodec.streamStates(state)), records));
        }
        String line = bytes.toString(StandardCharsets.UTF_8).strip();
        String prefix = "{\"type\":\"STATE\",\"state\":";
        assertThat(line).startsWith(prefix).endsWith("}");
        return line.substring(prefix.length(), line.length() - 1);
    }

    @Test
    void whatIsWrittenReadsBackAsTheSameState() throws IOException {
        CaptureState state = sample();
        for (CaptureState s : List.of(state, state.withPosition(0x2_0000_0000L), state.withStreams(Map.of()))) {
            assertThat(StateCodec.fromJson(Json.MAPPER.readTree(written(s, 7)))).contains(s);
        }
    }

    @Test
    void theStateIsWrittenExactlyAsDocumented() throws IOException {
        assertThat(written(sample(), 123)).isEqualTo("{\"type\":\"GLOBAL\",\"global\":{\"shared_state\":{\"state_version\":1,"
                + "\"position\":\"1/16B3748\",\"system_identifier\":\"7712162267251139603\",\"slot_name\":\"flow_slot\"},"
                + "\"stream_states\":[{\"stream_descriptor\":{\"name\":\"bare\"},\"stream_state\":{\"phase\":\"pending\"}},"
                + "{\"stream_descriptor\":{\"name\":\"customers\",\"namespace\":\"public\"},\"stream_state\":{\"phase\":\"active\"}},"
                + "{\"stream_descriptor\":{\"name\":\"orders\",\"namespace\":\"public\"},\"stream_state\":{\"phase\":\"backfilling\","
                + "\"resume_after\":[\"Zoë \\\"q\\\"\",null,\"42\"],\"rows_done\":1500}}]},\"sourceStats\":{\"recordCount\":123.0}}");
    }

    @Test
    void aPartitionedStreamsLeavesReadBackAndAStateWithoutThemStaysValid() throws IOException {
        Map<StreamId, StreamProgress> streams = new LinkedHashMap<>();
        streams.put(new StreamId("public", "m"), StreamProgress.ACTIVE.of(16384, "all:1").withPartitions("16390,16398"));
        streams.put(new StreamId("public", "empty"), StreamProgress.ACTIVE.withPartitions(""));
        CaptureState state = new CaptureState(0x1_016B_3748L, "7712162267251139603", "flow_slot", streams);
        String json = written(state, 1);
        assertThat(json).contains("\"partitions\":\"16390,16398\"").contains("\"partitions\":\"\"");
        assertThat(StateCodec.fromJson(Json.MAPPER.readTree(json))).contains(state);
        // Written before the leaves were recorded: read as not known.
        CaptureState older = StateCodec.fromJson(Json.MAPPER.readTree(json.replace(",\"partitions\":\"16390,16398\"", "")))
                .orElseThrow();
        assertThat(older.streams().get(new StreamId("public", "m")).partitions()).isNull();
    }

    @Test
    void aNewPositionSharesTheStreamsProgress() {
        CaptureState state = sample();
        CaptureState moved = state.withPosition(state.position() + 100);
        assertThat(moved.streams()).isSameAs(state.streams());
        assertThat(moved).isNotEqualTo(state);
        assertThat(moved.withPosition(state.position())).isEqualTo(state).hasSameHashCodeAs(state);
    }

    @Test
    void everyFormAnOrchestratorPassesBackIsAccepted() throws IOException {
        // Airbyte passes back an array of state messages; others keep one message, or a whole STATE line.
        CaptureState state = sample();
        JsonNode body = Json.MAPPER.readTree(written(state, 1));
        JsonNode message = Json.MAPPER.createObjectNode().put("type", "STATE").set("state", body);
        ArrayNode array = Json.MAPPER.createArrayNode().add(body);
        assertThat(StateCodec.fromJson(body)).contains(state);
        assertThat(StateCodec.fromJson(message)).contains(state);
        assertThat(StateCodec.fromJson(array)).contains(state);
        assertThat(StateCodec.fromJson(body.get("global"))).contains(state);
        assertThat(StateCodec.fromJson(Json.MAPPER.createObjectNode())).isEqualTo(Optional.empty());
    }

    @Test
    void aStateThatIsNotOursIsRefusedWithTheFix() throws IOException {
        JsonNode otherVersion = Json.MAPPER.readTree("{\"type\":\"GLOBAL\",\"global\":{\"shared_state\":{\"state_version\":99,"
                + "\"position\":\"0/1\",\"system_identifier\":\"1\",\"slot_name\":\"s\"},\"stream_states\":[]}}");
        assertThatThrownBy(() -> StateCodec.fromJson(otherVersion)).isInstanceOf(ConnectorException.class)
                .hasMessageContaining("state version 99").hasMessageContaining("reset the connection");
        JsonNode badPosition = Json.MAPPER.readTree("{\"type\":\"GLOBAL\",\"global\":{\"shared_state\":{\"state_version\":1,"
                + "\"position\":\"yesterday\",\"system_identifier\":\"1\",\"slot_name\":\"s\"},\"stream_states\":[]}}");
        assertThatThrownBy(() -> StateCodec.fromJson(badPosition)).hasMessageContaining("'yesterday' is not an LSN")
                .hasMessageContaining("no --state to start over");
        JsonNode noResume = Json.MAPPER.readTree("{\"type\":\"GLOBAL\",\"global\":{\"shared_state\":{\"state_version\":1,"
                + "\"position\":\"0/1\",\"system_identifier\":\"1\",\"slot_name\":\"s\"},\"stream_states\":[{\"stream_descriptor\":"
                + "{\"name\":\"t\"},\"stream_state\":{\"phase\":\"backfilling\"}}]}}");
        assertThatThrownBy(() -> StateCodec.fromJson(noResume)).hasMessageContaining("backfilling but has no resume_after");
    }
}
