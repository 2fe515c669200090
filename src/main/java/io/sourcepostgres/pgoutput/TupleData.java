package io.sourcepostgres.pgoutput;

import java.nio.charset.StandardCharsets;

/**
 * The column values of one row as pgoutput sent them, kept as slices of the received bytes: nothing is
 * copied or converted until an encoder reads a value. Valid only while the buffer it points into is;
 * whoever keeps a tuple past that must {@link #copy()} it.
 *
 * <p>Kinds per column: {@code 'n'} null, {@code 'u'} unchanged TOASTed value (not sent), {@code 't'} text,
 * {@code 'b'} binary.
 */
public final class TupleData {
    public static final byte NULL = 'n';
    public static final byte UNCHANGED_TOAST = 'u';
    public static final byte TEXT = 't';
    public static final byte BINARY = 'b';

    private final byte[] buffer;
    private final byte[] kinds;
    private final int[] offsets;
    private final int[] lengths;

    public TupleData(byte[] buffer, byte[] kinds, int[] offsets, int[] lengths) {
        this.buffer = buffer;
        this.kinds = kinds;
        this.offsets = offsets;
        this.lengths = lengths;
    }

    public int size() {
        return kinds.length;
    }

    public byte kind(int column) {
        return kinds[column];
    }

    public boolean isNull(int column) {
        return kinds[column] == NULL;
    }

    public boolean isUnchangedToast(int column) {
        return kinds[column] == UNCHANGED_TOAST;
    }

    /** The array holding the value bytes; read {@link #length} bytes from {@link #offset}. */
    public byte[] buffer() {
        return buffer;
    }

    public int offset(int column) {
        return offsets[column];
    }

    public int length(int column) {
        return lengths[column];
    }

    /** The text value of a column (allocates: for tests and cold paths). Null for 'n' and 'u'. */
    public String text(int column) {
        byte k = kinds[column];
        return k == TEXT || k == BINARY ? new String(buffer, offsets[column], lengths[column], StandardCharsets.UTF_8) : null;
    }

    /** A copy of one column's value bytes. */
    public byte[] bytes(int column) {
        return java.util.Arrays.copyOfRange(buffer, offsets[column], offsets[column] + lengths[column]);
    }

    /** A tuple of these kinds and values (null for a column without bytes), laid out in one buffer. */
    public static TupleData of(byte[] kinds, byte[][] values) {
        int total = 0;
        for (byte[] v : values) {
            total += v == null ? 0 : v.length;
        }
        byte[] buf = new byte[total];
        int[] offsets = new int[kinds.length];
        int[] lengths = new int[kinds.length];
        int pos = 0;
        for (int i = 0; i < kinds.length; i++) {
            if (values[i] != null) {
                System.arraycopy(values[i], 0, buf, pos, values[i].length);
                offsets[i] = pos;
                lengths[i] = values[i].length;
                pos += values[i].length;
            }
        }
        return new TupleData(buf, kinds, offsets, lengths);
    }

    /** A copy that owns its bytes, for tuples held past the life of the receive buffer. */
    public TupleData copy() {
        int total = 0;
        for (int i = 0; i < kinds.length; i++) {
            total += lengths[i];
        }
        byte[] own = new byte[total];
        int[] offs = new int[kinds.length];
        int pos = 0;
        for (int i = 0; i < kinds.length; i++) {
            System.arraycopy(buffer, offsets[i], own, pos, lengths[i]);
            offs[i] = pos;
            pos += lengths[i];
        }
        return new TupleData(own, kinds.clone(), offs, lengths.clone());
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("(");
        for (int i = 0; i < kinds.length; i++) {
            if (i > 0) {
                sb.append(", ");
            }
            switch (kinds[i]) {
                case NULL -> sb.append("NULL");
                case UNCHANGED_TOAST -> sb.append("<unchanged toast>");
                default -> sb.append('\'').append(text(i)).append('\'');
            }
        }
        return sb.append(')').toString();
    }
}
