package io.sourcepostgres.capture;

import io.sourcepostgres.streams.CapturedColumn;
import io.sourcepostgres.streams.CapturedTable;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sourcepostgres.airbyte.ConnectorException;
import io.sourcepostgres.airbyte.StreamId;
import io.sourcepostgres.pgoutput.TupleData;
import io.sourcepostgres.values.PgType;
import io.sourcepostgres.values.ValueEncoders;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class UnchangedKeyValuesTest {
    private static final PgType TEXT = PgType.builtin(25, "text", 'S');

    private static CapturedColumn column(String name, boolean key) {
        return new CapturedColumn(name, TEXT, -1, key, ValueEncoders.forType(TEXT, -1));
    }

    private static final CapturedTable TABLE = new CapturedTable(1, new StreamId("public", "tk"), 'd',
            List.of(column("k", true), column("v", false)), new int[] {0});

    /** A tuple from kinds and values ('t' columns take the next value). */
    private static TupleData tuple(String kinds, String... values) {
        byte[][] bytes = new byte[kinds.length()][];
        int total = 0;
        int next = 0;
        for (int i = 0; i < kinds.length(); i++) {
            if (kinds.charAt(i) == 't') {
                bytes[i] = values[next++].getBytes(StandardCharsets.UTF_8);
                total += bytes[i].length;
            }
        }
        byte[] buf = new byte[total];
        int[] offsets = new int[kinds.length()];
        int[] lengths = new int[kinds.length()];
        int pos = 0;
        for (int i = 0; i < kinds.length(); i++) {
            offsets[i] = pos;
            if (bytes[i] != null) {
                System.arraycopy(bytes[i], 0, buf, pos, bytes[i].length);
                lengths[i] = bytes[i].length;
                pos += bytes[i].length;
            }
        }
        return new TupleData(buf, kinds.getBytes(StandardCharsets.US_ASCII), offsets, lengths);
    }

    @Test
    void anUnchangedKeyIsTheOldKeysValueAndNoKeyChange() {
        TupleData oldKey = tuple("tn", "long key");
        TupleData filled = UnchangedKeyValues.fill(TABLE, oldKey, tuple("ut", "2"));
        assertThat(filled.toString()).isEqualTo("('long key', '2')");
        assertThat(TABLE.keyChanged(oldKey, filled)).isFalse();
    }

    @Test
    void aTupleWithItsKeyIsReturnedAsIs() {
        TupleData sent = tuple("tu", "k1");
        assertThat(UnchangedKeyValues.fill(TABLE, null, sent)).isSameAs(sent);
    }

    @Test
    void anUnchangedKeyWithoutAnOldValueIsAConfigErrorNamingTheFix() {
        assertThatThrownBy(() -> UnchangedKeyValues.fill(TABLE, null, tuple("ut", "2")))
                .isInstanceOf(ConnectorException.class)
                .hasMessageContaining("\"k\"").hasMessageContaining("REPLICA IDENTITY FULL");
    }
}
