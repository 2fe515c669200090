package io.sourcepostgres.backfill;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sourcepostgres.pgoutput.TupleData;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class RowKeyTest {

    /** A tuple laid out as pgoutput's would be: values at arbitrary offsets of one shared buffer. */
    private static TupleData tuple(String... values) {
        int size = 16;
        for (String v : values) {
            size += v == null ? 0 : v.getBytes(StandardCharsets.UTF_8).length + 3;
        }
        byte[] buffer = new byte[size];
        Arrays.fill(buffer, (byte) '#');
        byte[] kinds = new byte[values.length];
        int[] offsets = new int[values.length];
        int[] lengths = new int[values.length];
        int pos = 7;
        for (int i = 0; i < values.length; i++) {
            if (values[i] == null) {
                kinds[i] = TupleData.NULL;
                continue;
            }
            byte[] v = values[i].getBytes(StandardCharsets.UTF_8);
            kinds[i] = TupleData.TEXT;
            offsets[i] = pos;
            lengths[i] = v.length;
            System.arraycopy(v, 0, buffer, pos, v.length);
            pos += v.length + 3;
        }
        return new TupleData(buffer, kinds, offsets, lengths);
    }

    @Test
    void sameKeyFromATupleSliceAndFromTextValues() {
        TupleData t = tuple("ignored", "42", null, "é😀");
        RowKey fromTuple = RowKey.of(t, new int[] {1, 2, 3});
        RowKey fromText = RowKey.of(Arrays.asList("42", null, "é😀"));
        assertThat(fromTuple).isEqualTo(fromText).hasSameHashCodeAs(fromText);
        assertThat(fromTuple.values()).containsExactly("42", null, "é😀");
    }

    @Test
    void keyColumnOrderMatters() {
        TupleData t = tuple("a", "b");
        assertThat(RowKey.of(t, new int[] {0, 1})).isNotEqualTo(RowKey.of(t, new int[] {1, 0}));
    }

    @Test
    void nullEmptyAndBoundariesAreDistinct() {
        List<RowKey> keys = List.of(
                RowKey.of(Arrays.asList((String) null)),
                RowKey.of(List.of("")),
                RowKey.of(Arrays.asList("", null)),
                RowKey.of(Arrays.asList(null, "")),
                RowKey.of(List.of("ab", "c")),
                RowKey.of(List.of("a", "bc")),
                RowKey.of(List.of("abc")),
                RowKey.of(List.of("\u0000")));
        for (int i = 0; i < keys.size(); i++) {
            for (int j = 0; j < keys.size(); j++) {
                assertThat(keys.get(i).equals(keys.get(j))).as("%s vs %s", keys.get(i), keys.get(j)).isEqualTo(i == j);
            }
        }
    }

    @Test
    void longValuesUseMultiByteLengths() {
        String big = "x".repeat(300_000);
        RowKey key = RowKey.of(List.of(big, "y"));
        assertThat(key.values()).containsExactly(big, "y");
        assertThat(key.size()).isEqualTo(300_000 + 3 + 1 + 1);
        assertThat(key).isEqualTo(RowKey.of(tuple(big, "y"), new int[] {0, 1}));
    }

    @Test
    void refusesATupleWithoutTheKeyValue() {
        TupleData t = new TupleData(new byte[0], new byte[] {TupleData.UNCHANGED_TOAST}, new int[1], new int[1]);
        assertThatThrownBy(() -> RowKey.of(t, new int[] {0})).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("kind 'u'");
    }
}
