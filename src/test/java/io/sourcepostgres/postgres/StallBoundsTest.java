package io.sourcepostgres.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The bounds that decide how long a silent connection may keep a run waiting. */
class StallBoundsTest {

    @Test
    void queryConnectionsWaitTheStatementTimeoutPlusAMarginOrTenMinutes() {
        assertThat(QueryNetworkTimeout.of(Duration.ZERO)).isEqualTo(Duration.ofMinutes(10));
        assertThat(QueryNetworkTimeout.of(Duration.ofSeconds(5))).isEqualTo(Duration.ofSeconds(35));
        assertThat(QueryNetworkTimeout.of(Duration.ofHours(2))).isEqualTo(Duration.ofHours(2).plusSeconds(30));
    }

    @Test
    void theStreamIsQuestionedAfterThreeStatusIntervalsOfSilenceAndNeverSooner() {
        assertThat(WalSenderLiveness.silenceFor(Duration.ofSeconds(10))).isEqualTo(Duration.ofSeconds(30));
        assertThat(WalSenderLiveness.silenceFor(Duration.ofSeconds(1))).isEqualTo(Duration.ofSeconds(5));
        assertThat(WalSenderLiveness.silenceFor(Duration.ofSeconds(300))).isEqualTo(Duration.ofSeconds(900));
    }

    @Test
    void theServerHasAtLeastTenSecondsToAnswer() {
        assertThat(WalSenderLiveness.probeTimeoutFor(Duration.ofSeconds(1))).isEqualTo(Duration.ofSeconds(10));
        assertThat(WalSenderLiveness.probeTimeoutFor(Duration.ofSeconds(60))).isEqualTo(Duration.ofSeconds(60));
    }
}
