package io.sourcepostgres.replication;

import static org.assertj.core.api.Assertions.assertThat;

import io.sourcepostgres.pgoutput.Lsn;
import java.nio.ByteBuffer;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/** The streaming replication messages inside CopyData, as bytes on the wire (protocol documentation's layout). */
class CopyBothMessagesTest {
    private static final HexFormat HEX = HexFormat.of();

    @Test
    void anXLogDataMessageGivesItsWalStartAndItsPayloadWithoutCopying() {
        // 'w', WAL start 0/16B3748, WAL end 0/16B3790, send time, then a pgoutput Begin ('B' ...).
        byte[] m = HEX.parseHex("77" + "00000000016b3748" + "00000000016b3790" + "0002d1a9c1e3f2a0"
                + "42" + "00000000016b3790" + "0002d1a9c1e3f000" + "000002f1");
        assertThat(Lsn.format(CopyBothMessages.walStart(m))).isEqualTo("0/16B3748");
        ByteBuffer payload = CopyBothMessages.payload(m);
        assertThat(payload.array()).isSameAs(m);
        assertThat(payload.arrayOffset() + payload.position()).isEqualTo(25);
        assertThat(payload.remaining()).isEqualTo(1 + 8 + 8 + 4);
        assertThat(payload.get(0)).isEqualTo((byte) 'B');
    }

    @Test
    void aKeepaliveGivesTheServersWalEndAndWhetherItWantsAReply() {
        byte[] asking = HEX.parseHex("6b" + "00000001a0000028" + "0002d1a9c1e3f2a0" + "01");
        byte[] telling = HEX.parseHex("6b" + "00000001a0000028" + "0002d1a9c1e3f2a0" + "00");
        assertThat(Lsn.format(CopyBothMessages.keepaliveWalEnd(asking))).isEqualTo("1/A0000028");
        assertThat(CopyBothMessages.replyRequested(asking)).isTrue();
        assertThat(CopyBothMessages.replyRequested(telling)).isFalse();
    }

    @Test
    void aStatusUpdateCarriesThePositionsAndAClockSince2000() {
        long received = Lsn.parse("0/16B3790");
        long flushed = Lsn.parse("0/16B3748");
        // 2000-01-01T00:00:01Z in Unix microseconds: one second after PostgreSQL's epoch.
        byte[] m = CopyBothMessages.statusUpdate(received, flushed, flushed, 946_684_801_000_000L, true);
        assertThat(HEX.formatHex(m)).isEqualTo("72" + "00000000016b3790" + "00000000016b3748" + "00000000016b3748"
                + "00000000000f4240" + "01");
        assertThat(CopyBothMessages.statusUpdate(received, flushed, flushed, 946_684_801_000_000L, false)[33]).isZero();
    }

    @Test
    void positionsAboveTwoToTheThirtyOneAreReadUnsigned() {
        byte[] m = HEX.parseHex("6b" + "ffffffff80000000" + "0000000000000000" + "00");
        assertThat(Lsn.format(CopyBothMessages.keepaliveWalEnd(m))).isEqualTo("FFFFFFFF/80000000");
    }
}
