package io.sourcepostgres.backfill;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ChunkSnapshotTest {

    @Test
    void parsesPostgresTextForm() {
        ChunkSnapshot s = ChunkSnapshot.parse("100:105:100,103");
        assertThat(s.xmin()).isEqualTo(100);
        assertThat(s.xmax()).isEqualTo(105);
        assertThat(s.inProgress()).containsExactly(100L, 103L);
        assertThat(ChunkSnapshot.parse("739:739:").inProgress()).isEmpty();
        assertThatThrownBy(() -> ChunkSnapshot.parse("1:2")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void includesWhatFinishedBeforeItAndNothingElse() {
        ChunkSnapshot s = ChunkSnapshot.parse("100:105:100,103");
        assertThat(s.includes(99)).isTrue();
        assertThat(s.includes(100)).isFalse();
        assertThat(s.includes(101)).isTrue();
        assertThat(s.includes(103)).isFalse();
        assertThat(s.includes(104)).isTrue();
        assertThat(s.includes(105)).isFalse();
        assertThat(s.includes(200)).isFalse();
    }

    @Test
    void widensThirtyTwoBitIdsAcrossAnEpochBoundary() {
        long epoch = 1L << 32;
        ChunkSnapshot s = new ChunkSnapshot(epoch - 10, epoch + 5, java.util.List.of(epoch - 2, epoch + 1));
        assertThat(s.includes32(0xFFFFFFF0L)).isTrue();     // epoch 0, below xmin
        assertThat(s.includes32(0xFFFFFFFEL)).isFalse();    // epoch 0, in progress
        assertThat(s.includes32(0xFFFFFFFFL)).isTrue();     // epoch 0, finished
        assertThat(s.includes32(1)).isFalse();              // epoch 1, in progress
        assertThat(s.includes32(3)).isTrue();               // epoch 1, finished
        assertThat(s.includes32(5)).isFalse();              // epoch 1, xmax: not started
        assertThat(s.includes32(6)).isFalse();
    }
}
