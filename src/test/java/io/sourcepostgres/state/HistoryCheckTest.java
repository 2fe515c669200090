package io.sourcepostgres.state;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sourcepostgres.airbyte.ConnectorException;
import io.sourcepostgres.pgoutput.Lsn;
import io.sourcepostgres.postgres.ServerHistory;
import java.util.Map;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class HistoryCheckTest {
    private static CaptureState state(String position, int timeline) {
        return new CaptureState(Lsn.parse(position), "7", "slot", timeline, Map.of());
    }

    private static final HistoryCheck.BranchPoints TIMELINE_1_ENDED_AT_0_5000000 =
            t -> t == 1 ? OptionalLong.of(Lsn.parse("0/5000000")) : OptionalLong.empty();

    @Test
    void aStateOnTheSameHistoryIsAccepted() {
        assertThatCode(() -> HistoryCheck.check(state("0/4000000", 1), new ServerHistory(1, Lsn.parse("0/6000000")),
                TIMELINE_1_ENDED_AT_0_5000000)).doesNotThrowAnyException();
        // before the branch point: on both histories
        assertThatCode(() -> HistoryCheck.check(state("0/5000000", 1), new ServerHistory(2, Lsn.parse("0/6000000")),
                TIMELINE_1_ENDED_AT_0_5000000)).doesNotThrowAnyException();
        // an old state without a timeline: only the end of the WAL is checked
        assertThatCode(() -> HistoryCheck.check(state("0/5800000", 0), new ServerHistory(2, Lsn.parse("0/6000000")),
                TIMELINE_1_ENDED_AT_0_5000000)).doesNotThrowAnyException();
    }

    @Test
    void aStateBeyondTheWalOrPastTheBranchPointOrFromAnotherBranchIsRefused() {
        assertThatThrownBy(() -> HistoryCheck.check(state("0/7000000", 0), new ServerHistory(1, Lsn.parse("0/6000000")),
                TIMELINE_1_ENDED_AT_0_5000000)).isInstanceOf(ConnectorException.class)
                .hasMessageContaining("beyond the end of this server's WAL (0/6000000");
        assertThatThrownBy(() -> HistoryCheck.check(state("0/5000001", 1), new ServerHistory(2, Lsn.parse("0/6000000")),
                TIMELINE_1_ENDED_AT_0_5000000)).isInstanceOf(ConnectorException.class)
                .hasMessageContaining("left WAL timeline 1 at 0/5000000");
        assertThatThrownBy(() -> HistoryCheck.check(state("0/4000000", 3), new ServerHistory(2, Lsn.parse("0/6000000")),
                TIMELINE_1_ENDED_AT_0_5000000)).isInstanceOf(ConnectorException.class)
                .hasMessageContaining("timeline 3, which is not in the history");
    }
}
