package io.sourcepostgres.failpoints;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The switch of the failpoints: inert unless configured, and a configuration that cannot mean anything fails. */
class FailpointsTest {

    @Test
    void inertUnlessSwitchedOn() {
        // This JVM was started without the property or the variable: every point does nothing.
        for (String name : new String[] {Failpoints.AFTER_STATE_WRITTEN, Failpoints.MID_CHUNK_EMIT,
                Failpoints.BETWEEN_FENCE_AND_CHUNK_ROWS, Failpoints.MID_STREAMED_TRANSACTION,
                Failpoints.BEFORE_SLOT_CONFIRM}) {
            Failpoints.hit(name);
        }
        assertThat(Failpoints.parse(null)).isEmpty();
        assertThat(Failpoints.parse(" ")).isEmpty();
    }

    @Test
    void parsesNamesActionsAndHitCounts() {
        var points = Failpoints.parse("mid-chunk-emit=halt, after-state-written=throw@3,");
        assertThat(points).containsOnlyKeys("mid-chunk-emit", "after-state-written");
        assertThat(points.get("mid-chunk-emit").action()).isEqualTo(Failpoints.Action.HALT);
        assertThat(points.get("mid-chunk-emit").fromHit()).isEqualTo(1);
        assertThat(points.get("after-state-written").action()).isEqualTo(Failpoints.Action.THROW);
        assertThat(points.get("after-state-written").fromHit()).isEqualTo(3);
    }

    @Test
    void refusesWhatItCannotDo() {
        assertThatThrownBy(() -> Failpoints.parse("mid-chunk-emit=explode")).hasMessageContaining("halt or throw");
        assertThatThrownBy(() -> Failpoints.parse("mid-chunk-emit")).hasMessageContaining("name=halt");
    }
}
