package io.sourcepostgres.backfill;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sourcepostgres.pgoutput.TupleData;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class CopyTextRowTest {

    private static TupleData parse(String line, int columns) {
        byte[] bytes = line.getBytes(StandardCharsets.UTF_8);
        return CopyTextRow.parse(bytes, bytes.length, columns);
    }

    private static List<String> texts(TupleData row) {
        List<String> values = new ArrayList<>();
        for (int i = 0; i < row.size(); i++) {
            values.add(row.text(i));
        }
        return values;
    }

    @Test
    void splitsAtTabsAndDropsTheNewline() {
        TupleData row = parse("1\tabc\t2024-01-02 03:04:05+00\n", 3);
        assertThat(texts(row)).containsExactly("1", "abc", "2024-01-02 03:04:05+00");
        assertThat(row.kind(0)).isEqualTo(TupleData.TEXT);
    }

    @Test
    void backslashCapitalNAloneIsNullButEmptyIsNot() {
        TupleData row = parse("\\N\t\t\\N\n", 3);
        assertThat(row.isNull(0)).isTrue();
        assertThat(row.isNull(1)).isFalse();
        assertThat(row.length(1)).isZero();
        assertThat(row.kind(1)).isEqualTo(TupleData.TEXT);
        assertThat(row.isNull(2)).isTrue();
    }

    @Test
    void anEscapedBackslashFollowedByNIsText() {
        TupleData row = parse("\\\\N\tx\\N\n", 2);
        assertThat(texts(row)).containsExactly("\\N", "xN");
        assertThat(row.isNull(0)).isFalse();
    }

    @Test
    void undoesEveryEscapeCopyToWrites() {
        TupleData row = parse("a\\tb\\nc\\rd\\\\e\\bf\\fg\\vh\n", 1);
        assertThat(row.text(0)).isEqualTo("a\tb\nc\rd\\e\bf\fg\u000bh");
    }

    @Test
    void undoesOctalAndHexEscapesAndKeepsOtherEscapedCharacters() {
        TupleData row = parse("\\101\\7\\0x\tq\\x41\\x4g\\xz\t\\.\\q\n", 3);
        assertThat(row.text(0)).isEqualTo("A\u0007\u0000x");
        assertThat(row.text(1)).isEqualTo("qA\u0004gxz");
        assertThat(row.text(2)).isEqualTo(".q");
    }

    @Test
    void keepsMultiByteUtf8AndUnescapedControlBytesIntact() {
        byte[] line = "é 中文 😀\u0001\t\\N\n".getBytes(StandardCharsets.UTF_8);
        TupleData row = CopyTextRow.parse(line, line.length, 2);
        assertThat(Arrays.copyOfRange(row.buffer(), row.offset(0), row.offset(0) + row.length(0)))
                .isEqualTo("é 中文 😀\u0001".getBytes(StandardCharsets.UTF_8));
        assertThat(row.isNull(1)).isTrue();
    }

    @Test
    void readsOnlyTheGivenLength() {
        byte[] line = "ab\tcd\nGARBAGE".getBytes(StandardCharsets.UTF_8);
        assertThat(texts(CopyTextRow.parse(line, 6, 2))).containsExactly("ab", "cd");
    }

    @Test
    void aSingleColumnRowMayBeEmpty() {
        TupleData row = parse("\n", 1);
        assertThat(row.isNull(0)).isFalse();
        assertThat(row.text(0)).isEmpty();
    }

    @Test
    void refusesRowsWithTheWrongNumberOfFields() {
        assertThatThrownBy(() -> parse("1\t2\n", 3)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("fewer than the 3");
        assertThatThrownBy(() -> parse("1\t2\t3\n", 2)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("more than the 2");
        assertThatThrownBy(() -> parse("abc\\", 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("inside a backslash escape");
    }
}
