package io.sourcepostgres.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.sourcepostgres.pgoutput.Lsn;
import org.junit.jupiter.api.Test;

class ServerHistoryTest {
    /** A history file as PostgreSQL writes it for timeline 3: where timelines 1 and 2 ended. */
    private static final String HISTORY = "1\t0/3000158\tno recovery target specified\n"
            + "\n# a comment\n2\t0/50000A0\tbefore 2026-12-06 12:00:00+00\n";

    @Test
    void readsWhereEachAncestorTimelineEnded() {
        assertThat(ServerHistory.branchPoint(HISTORY, 1)).hasValue(Lsn.parse("0/3000158"));
        assertThat(ServerHistory.branchPoint(HISTORY, 2)).hasValue(Lsn.parse("0/50000A0"));
        assertThat(ServerHistory.branchPoint(HISTORY, 4)).isEmpty();
        assertThat(ServerHistory.branchPoint("", 1)).isEmpty();
    }
}
