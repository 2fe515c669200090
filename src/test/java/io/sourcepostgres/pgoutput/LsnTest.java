package io.sourcepostgres.pgoutput;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LsnTest {
    @Test
    void formatsLikeTheServer() {
        assertThat(Lsn.format(0x16B3748L)).isEqualTo("0/16B3748");
        assertThat(Lsn.format(0)).isEqualTo("0/0");
        assertThat(Lsn.format(0x1_0000_0000L)).isEqualTo("1/0");
        assertThat(Lsn.format(0xABCDEF0L)).isEqualTo("0/ABCDEF0");
        assertThat(Lsn.format(-1L)).as("unsigned: the largest LSN").isEqualTo("FFFFFFFF/FFFFFFFF");
        assertThat(Lsn.format(0x8000_0000_0000_0000L)).isEqualTo("80000000/0");
    }

    @Test
    void parsesEveryFormTheServerPrints() {
        assertThat(Lsn.parse("0/16B3748")).isEqualTo(0x16B3748L);
        assertThat(Lsn.parse("0/16b3748")).isEqualTo(0x16B3748L);
        assertThat(Lsn.parse("00000000/016B3748")).as("zero-padded, as newer servers print it").isEqualTo(0x16B3748L);
        assertThat(Lsn.parse("FFFFFFFF/FFFFFFFF")).isEqualTo(-1L);
        assertThat(Lsn.parse("1/0")).isEqualTo(0x1_0000_0000L);
    }

    @Test
    void roundTrips() {
        SplittableRandom random = new SplittableRandom(42);
        for (int i = 0; i < 10_000; i++) {
            long lsn = random.nextLong();
            assertThat(Lsn.parse(Lsn.format(lsn))).isEqualTo(lsn);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "0", "/", "0/", "/1", "0/G", "-1/0", "0/+1", "123456789/0", "0/123456789", "0-1", "0/1/2", " 0/1"})
    void refusesWhatIsNotAnLsn(String text) {
        assertThatThrownBy(() -> Lsn.parse(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'" + text + "'");
    }
}
