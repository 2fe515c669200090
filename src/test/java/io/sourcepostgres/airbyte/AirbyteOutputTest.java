package io.sourcepostgres.airbyte;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcepostgres.testing.ProtocolValidator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The stdout writer: one valid Airbyte message per line, whatever is interleaved with the records. */
class AirbyteOutputTest {

    private static List<JsonNode> lines(ByteArrayOutputStream bytes) throws IOException {
        String text = bytes.toString(StandardCharsets.UTF_8);
        assertThat(text).endsWith("\n");
        List<JsonNode> messages = new ArrayList<>();
        for (String line : text.split("\n")) {
            JsonNode m = Json.MAPPER.readTree(line);
            ProtocolValidator.assertValidMessage(m);
            messages.add(m);
        }
        return messages;
    }

    private static void record(AirbyteOutput out, StreamId stream, long millis, int id, List<MetaChange> changes)
            throws IOException {
        out.records().write(stream, millis, g -> {
            g.writeNumberField("id", id);
            g.writeStringField("note", "n\"" + id);
        }, changes);
    }

    /**
     * The output keeps the last {@code stream_states}' bytes while the same String comes back: states that share it,
     * one with another array (non-ASCII, as large as a buffer), and the first again are each written byte for byte.
     */
    @Test
    void statesSharingOrChangingTheirStreamStatesAreWrittenExactly() {
        String a = "[{\"stream_descriptor\":{\"name\":\"Zoë 😀\"},\"stream_state\":{}}]";
        String b = "[{\"stream_descriptor\":{\"name\":\"" + "x".repeat(20_000) + "\"},\"stream_state\":{}}]";
        String images = "[{\"stream\":\"t\",\"key\":[\"1\"]}]";
        List<GlobalState> states = List.of(new GlobalState(1, "0/2A", "77", "slot", 0, null, a, 1),
                new GlobalState(1, "0/2B", "77", "slot", 0, images, a, 0),
                new GlobalState(1, "0/2C", "77", "slot", 3, null, b, 2),
                new GlobalState(1, "0/2D", "77", "slot", 3, null, new String(a), 9_999_999),
                new GlobalState(1, "0/2E", "77", "slot", 3, images, b, 10_000_000),
                new GlobalState(1, "0/2F", "77", "slot", 3, null, b, 0));
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (AirbyteOutput out = new AirbyteOutput(bytes, new Secrets())) {
            states.forEach(out::state);
        }
        StringBuilder expected = new StringBuilder();
        for (GlobalState st : states) {
            expected.append("{\"type\":\"STATE\",\"state\":{\"type\":\"GLOBAL\",\"global\":{\"shared_state\":{")
                    .append("\"state_version\":1,\"position\":\"").append(st.position())
                    .append("\",\"system_identifier\":\"77\",\"slot_name\":\"slot\"")
                    .append(st.timeline() > 0 ? ",\"timeline\":" + st.timeline() : "")
                    .append(st.unsentImagesJson() != null ? ",\"unsent_images\":" + st.unsentImagesJson() : "")
                    .append("},\"stream_states\":").append(st.streamStatesJson())
                    .append("},\"sourceStats\":{\"recordCount\":").append((double) st.recordCount()).append("}}}\n");
        }
        assertThat(bytes.toString(StandardCharsets.UTF_8)).isEqualTo(expected.toString());
    }

    @Test
    void recordsOfSeveralStreamsAndTimesInterleavedWithOtherMessages() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        StreamId plain = new StreamId("public", "t");
        StreamId hostile = new StreamId("sch\"ema\\ 😀", "ta\nble");
        StreamId noNamespace = new StreamId(null, "bare");
        try (AirbyteOutput out = new AirbyteOutput(bytes, new Secrets())) {
            record(out, plain, 1000, 1, List.of());
            record(out, plain, 1000, 2, null);
            record(out, plain, 1001, 3, List.of());
            out.log(LogLevel.INFO, "between records");
            record(out, hostile, 1001, 4, List.of(MetaChange.nulledUnrepresentable("v\"al")));
            out.state(new GlobalState(1, "0/2A", "7712162267251139603", "slot", 0, null, "[]", 4));
            record(out, noNamespace, 1002, 5, List.of(MetaChange.nulledUnrepresentable("a"),
                    new MetaChange("b", "NULLED", "SOURCE_RETRIEVAL_ERROR")));
            record(out, plain, 1002, 6, List.of());
        }
        List<JsonNode> m = lines(bytes);
        assertThat(m).extracting(n -> n.get("type").asText())
                .containsExactly("RECORD", "RECORD", "RECORD", "LOG", "RECORD", "STATE", "RECORD", "RECORD");
        assertThat(m.get(0).get("record").toString()).isEqualTo(
                "{\"namespace\":\"public\",\"stream\":\"t\",\"emitted_at\":1000,\"data\":{\"id\":1,\"note\":\"n\\\"1\"}}");
        assertThat(m.get(2).at("/record/emitted_at").asLong()).isEqualTo(1001);
        JsonNode h = m.get(4).get("record");
        assertThat(h.get("namespace").asText()).isEqualTo("sch\"ema\\ 😀");
        assertThat(h.get("stream").asText()).isEqualTo("ta\nble");
        assertThat(h.at("/meta/changes/0/field").asText()).isEqualTo("v\"al");
        assertThat(h.at("/meta/changes/0/reason").asText()).isEqualTo("SOURCE_SERIALIZATION_ERROR");
        JsonNode b = m.get(6).get("record");
        assertThat(b.has("namespace")).isFalse();
        assertThat(b.get("stream").asText()).isEqualTo("bare");
        assertThat(b.at("/meta/changes")).hasSize(2);
        assertThat(b.at("/meta/changes/1/change").asText()).isEqualTo("NULLED");
        assertThat(m.get(7).at("/record/data/id").asInt()).isEqualTo(6);
        assertThat(m.get(7).at("/record/namespace").asText()).isEqualTo("public");
        assertThat(m.get(5).at("/state/global/shared_state/position").asText()).isEqualTo("0/2A");
        assertThat(m.get(5).at("/state/sourceStats/recordCount").asDouble()).isEqualTo(4.0);
    }

    /**
     * A value that fails half-way through a record (an encoder throws, as a changed column type makes it do)
     * drops the whole record: stdout gets no broken line, and the TRACE ERROR that follows is a line of its own.
     */
    @Test
    void aRecordThatFailsHalfWayIsDroppedWhole() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        StreamId t = new StreamId("public", "t");
        String big = "x".repeat(300_000); // longer than the record buffer: the failing record has spilled
        try (AirbyteOutput out = new AirbyteOutput(bytes, new Secrets())) {
            record(out, t, 1000, 1, List.of());
            for (String value : List.of("small", big)) {
                org.assertj.core.api.Assertions.assertThatThrownBy(() -> out.records().write(t, 1000, g -> {
                    g.writeNumberField("id", 2);
                    g.writeStringField("v", value);
                    g.writeFieldName("n");
                    throw new IllegalArgumentException("invalid input syntax for type integer");
                }, List.of())).isInstanceOf(IllegalArgumentException.class);
            }
            out.records().write(t, 1000, g -> g.writeStringField("v", big), List.of());
            record(out, t, 1000, 3, List.of());
            out.traceError(FailureType.SYSTEM_ERROR, "failed", null, null);
        }
        List<JsonNode> m = lines(bytes);
        assertThat(m).extracting(n -> n.get("type").asText()).containsExactly("RECORD", "RECORD", "RECORD", "TRACE");
        assertThat(m.get(0).at("/record/data/id").asInt()).isEqualTo(1);
        assertThat(m.get(1).at("/record/data/v").asText()).isEqualTo(big);
        assertThat(m.get(2).at("/record/data/id").asInt()).isEqualTo(3);
    }

    @Test
    void aBrokenStdoutIsAnErrorNotSilence() {
        java.io.OutputStream broken = new java.io.OutputStream() {
            @Override
            public void write(int b) throws IOException {
                throw new IOException("Broken pipe");
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                throw new IOException("Broken pipe");
            }
        };
        AirbyteOutput out = new AirbyteOutput(broken, new Secrets());
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> out.log(LogLevel.INFO, "anyone there?"))
                .isInstanceOf(java.io.UncheckedIOException.class).hasMessageContaining("stdout");
    }
}
