package io.sourcepostgres.backfill;

import io.sourcepostgres.pgoutput.TupleData;

/**
 * Parses one row of {@code COPY ... TO STDOUT} in text format into the column values PostgreSQL's output
 * functions produced: fields split at tabs, {@code \N} is NULL, and COPY's backslash escapes undone, so
 * that each value is byte for byte the text pgoutput sends for it.
 *
 * <p>COPY TO only ever writes {@code \\}, {@code \b}, {@code \f}, {@code \n}, {@code \r}, {@code \t},
 * {@code \v} and {@code \N}; the octal ({@code \123}) and hex ({@code \x7f}) forms that COPY FROM also
 * accepts are undone as well, so that the parser reads anything the format allows.
 */
public final class CopyTextRow {
    private CopyTextRow() {}

    /**
     * The values of {@code line[0, length)} (one CopyData message: the row and its final newline) as a
     * tuple that owns its bytes: kinds {@link TupleData#TEXT} or {@link TupleData#NULL}.
     *
     * @throws IllegalArgumentException when the row does not have {@code columns} fields or ends inside an
     *     escape: the server did not send what the query asked for, a bug rather than data to skip
     */
    public static TupleData parse(byte[] line, int length, int columns) {
        int end = length;
        if (end > 0 && line[end - 1] == '\n') {
            end--;
        }
        byte[] out = new byte[end];
        byte[] kinds = new byte[columns];
        int[] offsets = new int[columns];
        int[] lengths = new int[columns];
        int i = 0;
        int o = 0;
        for (int col = 0; col < columns; col++) {
            if (col > 0) {
                if (i >= end || line[i] != '\t') {
                    throw wrongFieldCount(columns, col);
                }
                i++;
            }
            offsets[col] = o;
            if (end - i >= 2 && line[i] == '\\' && line[i + 1] == 'N' && (end - i == 2 || line[i + 2] == '\t')) {
                kinds[col] = TupleData.NULL;
                i += 2;
                continue;
            }
            kinds[col] = TupleData.TEXT;
            while (i < end) {
                byte c = line[i];
                if (c == '\t') {
                    break;
                }
                if (c != '\\') {
                    out[o++] = c;
                    i++;
                    continue;
                }
                if (++i >= end) {
                    throw new IllegalArgumentException("COPY text row ends inside a backslash escape");
                }
                c = line[i++];
                switch (c) {
                    case 'b' -> out[o++] = '\b';
                    case 'f' -> out[o++] = '\f';
                    case 'n' -> out[o++] = '\n';
                    case 'r' -> out[o++] = '\r';
                    case 't' -> out[o++] = '\t';
                    case 'v' -> out[o++] = 0x0b;
                    case '0', '1', '2', '3', '4', '5', '6', '7' -> {
                        int value = c - '0';
                        for (int digits = 1; digits < 3 && i < end && line[i] >= '0' && line[i] <= '7'; digits++) {
                            value = value * 8 + (line[i++] - '0');
                        }
                        out[o++] = (byte) value;
                    }
                    case 'x' -> {
                        int value = 0;
                        int digits = 0;
                        while (digits < 2 && i < end && hex(line[i]) >= 0) {
                            value = value * 16 + hex(line[i++]);
                            digits++;
                        }
                        out[o++] = digits == 0 ? (byte) 'x' : (byte) value;
                    }
                    default -> out[o++] = c;
                }
            }
            lengths[col] = o - offsets[col];
        }
        if (i != end) {
            throw wrongFieldCount(columns, columns + 1);
        }
        return new TupleData(out, kinds, offsets, lengths);
    }

    private static int hex(byte c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    }

    private static IllegalArgumentException wrongFieldCount(int expected, int seen) {
        return new IllegalArgumentException("COPY text row has " + (seen > expected ? "more" : "fewer") + " than the "
                + expected + " fields the query selected");
    }
}
