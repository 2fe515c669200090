package io.sourcepostgres.backfill;

import io.sourcepostgres.pgoutput.TupleData;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * A row's scan key as the text output of its key columns, in key order: the same bytes whether the row
 * came from a backfill chunk or from a pgoutput tuple, so a change event finds the buffered row it
 * supersedes by plain byte equality.
 *
 * <p>Held as one array: per column a varint of (length + 1), 0 meaning NULL, then the value's bytes. Two keys
 * are equal exactly when every column is NULL in both or has the same bytes in both. Byte equality is the
 * right test here even under case-insensitive or other non-deterministic collations: a change event names
 * the exact value the row had, and the chunk holds the exact value it read.
 */
public final class RowKey {
    private final byte[] bytes;
    private final int hash;

    private RowKey(byte[] bytes) {
        this.bytes = bytes;
        this.hash = Arrays.hashCode(bytes);
    }

    /**
     * The key of a tuple whose key columns are at {@code columns} (positions in the tuple, in key order): for
     * a chunk row {@link BackfillPlan#keyPositions()}, for a pgoutput tuple the key columns' positions in
     * that relation's column list.
     *
     * @throws IllegalArgumentException when a key column is an unchanged TOASTed value or binary: such a
     *     tuple does not carry the key, and the caller must take it from the other tuple of the change
     */
    public static RowKey of(TupleData tuple, int[] columns) {
        int size = 0;
        for (int c : columns) {
            byte kind = tuple.kind(c);
            if (kind == TupleData.NULL) {
                size++;
            } else if (kind == TupleData.TEXT) {
                size += varintSize(tuple.length(c) + 1) + tuple.length(c);
            } else {
                throw new IllegalArgumentException("key column " + c + " of the tuple holds no text value (kind '"
                        + (char) kind + "')");
            }
        }
        byte[] out = new byte[size];
        int o = 0;
        for (int c : columns) {
            if (tuple.kind(c) == TupleData.NULL) {
                out[o++] = 0;
            } else {
                int length = tuple.length(c);
                o = writeVarint(out, o, length + 1);
                System.arraycopy(tuple.buffer(), tuple.offset(c), out, o, length);
                o += length;
            }
        }
        return new RowKey(out);
    }

    /** The key of the given text values in key order; a null element is a NULL column. */
    public static RowKey of(List<String> values) {
        byte[][] utf8 = new byte[values.size()][];
        int size = 0;
        for (int i = 0; i < utf8.length; i++) {
            String v = values.get(i);
            if (v == null) {
                size++;
            } else {
                utf8[i] = v.getBytes(StandardCharsets.UTF_8);
                size += varintSize(utf8[i].length + 1) + utf8[i].length;
            }
        }
        byte[] out = new byte[size];
        int o = 0;
        for (byte[] v : utf8) {
            if (v == null) {
                out[o++] = 0;
            } else {
                o = writeVarint(out, o, v.length + 1);
                System.arraycopy(v, 0, out, o, v.length);
                o += v.length;
            }
        }
        return new RowKey(out);
    }

    /** The key's values in key order, null for NULL (allocates: for state, messages and tests). */
    public List<String> values() {
        List<String> values = new ArrayList<>();
        int i = 0;
        while (i < bytes.length) {
            int lengthPlusOne = 0;
            int shift = 0;
            byte b;
            do {
                b = bytes[i++];
                lengthPlusOne |= (b & 0x7f) << shift;
                shift += 7;
            } while ((b & 0x80) != 0);
            if (lengthPlusOne == 0) {
                values.add(null);
            } else {
                values.add(new String(bytes, i, lengthPlusOne - 1, StandardCharsets.UTF_8));
                i += lengthPlusOne - 1;
            }
        }
        return Collections.unmodifiableList(values);
    }

    /** The memory this key holds, roughly: its bytes. */
    public int size() {
        return bytes.length;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RowKey k && hash == k.hash && Arrays.equals(bytes, k.bytes);
    }

    @Override
    public int hashCode() {
        return hash;
    }

    /** The values, for messages; key values are not secrets, but may be long. */
    @Override
    public String toString() {
        return values().toString();
    }

    private static int varintSize(int value) {
        int n = 1;
        while ((value >>>= 7) != 0) {
            n++;
        }
        return n;
    }

    private static int writeVarint(byte[] out, int o, int value) {
        while ((value & ~0x7f) != 0) {
            out[o++] = (byte) ((value & 0x7f) | 0x80);
            value >>>= 7;
        }
        out[o++] = (byte) value;
        return o;
    }
}
