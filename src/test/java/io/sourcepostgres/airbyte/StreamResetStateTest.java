package io.sourcepostgres.airbyte;

import io.sourcepostgres.state.StateCodec;
import static org.assertj.core.api.Assertions.assertThat;

import io.sourcepostgres.state.CaptureState;
import io.sourcepostgres.state.StreamProgress;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Airbyte resets one stream of a GLOBAL state by passing its {@code stream_state} as null (or leaving the
 * entry's {@code stream_state} out): that stream starts over, the others keep their progress. And the
 * identity of each stream's table (relation oid, publication membership) survives the round trip.
 */
class StreamResetStateTest {
    private static final String SHARED = "{\"state_version\":1,\"position\":\"0/16B3748\",\"system_identifier\":\"1\","
            + "\"slot_name\":\"s\"}";

    @Test
    void aNullOrMissingStreamStateIsAStreamThatStartsOver() throws Exception {
        CaptureState state = StateCodec.fromJson(Json.MAPPER.readTree("[{\"type\":\"GLOBAL\",\"global\":{\"shared_state\":"
                + SHARED + ",\"stream_states\":["
                + "{\"stream_descriptor\":{\"name\":\"a\",\"namespace\":\"public\"},\"stream_state\":{\"phase\":\"active\"}},"
                + "{\"stream_descriptor\":{\"name\":\"b\",\"namespace\":\"public\"},\"stream_state\":null},"
                + "{\"stream_descriptor\":{\"name\":\"c\",\"namespace\":\"public\"}}]}}]")).orElseThrow();
        Map<StreamId, StreamProgress> streams = state.streams();
        assertThat(streams.get(new StreamId("public", "a")).phase()).isEqualTo(StreamProgress.Phase.ACTIVE);
        assertThat(streams.get(new StreamId("public", "b"))).isEqualTo(StreamProgress.PENDING);
        assertThat(streams.get(new StreamId("public", "c"))).isEqualTo(StreamProgress.PENDING);
    }

    @Test
    void theTableIdentityOfAStreamReadsBackAsWritten() throws Exception {
        StreamProgress p = StreamProgress.ACTIVE.of(16_384L, "table:16390");
        CaptureState state = new CaptureState(1, "1", "s", Map.of(new StreamId("public", "a"), p));
        String json = "{\"shared_state\":" + SHARED + ",\"stream_states\":"
                + Json.MAPPER.writeValueAsString(StateCodec.streamStates(state)) + "}";
        StreamProgress back = StateCodec.fromJson(Json.MAPPER.readTree(json)).orElseThrow().streams()
                .get(new StreamId("public", "a"));
        assertThat(back).isEqualTo(p);
        assertThat(back.restarted()).isEqualTo(StreamProgress.PENDING.of(16_384L, "table:16390"));
    }

    @Test
    void aSchemaWithPropertiesSelectsThoseColumnsAndOneWithoutSelectsAll() throws Exception {
        assertThat(ColumnSelection.of(Json.MAPPER.readTree("{\"type\":\"object\"}"))).isNull();
        assertThat(ColumnSelection.of(Json.MAPPER.readTree("{\"type\":\"object\",\"properties\":{\"id\":{},\"Name\":{},"
                + "\"_ab_cdc_lsn\":{}}}"))).containsExactly("id", "Name");
    }
}
