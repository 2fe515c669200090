package io.sourcepostgres.pgoutput;

/**
 * PostgreSQL log sequence numbers: unsigned 64-bit WAL positions held in a long, written as two hex
 * halves ({@code 0/16B3748}) the way the server prints {@code pg_lsn}. Compare them with
 * {@link Long#compareUnsigned}: positions past {@code 8000000/0} are negative as Java longs.
 */
public final class Lsn {
    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    private Lsn() {}

    /** The server's text form: upper-case hex, no padding, e.g. {@code 0/16B3748}. */
    public static String format(long lsn) {
        char[] out = new char[17];
        int pos = appendHex(out, 0, lsn >>> 32);
        out[pos++] = '/';
        pos = appendHex(out, pos, lsn & 0xFFFF_FFFFL);
        return new String(out, 0, pos);
    }

    /**
     * Parses {@code X/Y} with 1 to 8 hex digits per half (upper or lower case, zero-padded or not, as
     * every server version prints them).
     */
    public static long parse(String text) {
        int slash = text.indexOf('/');
        if (slash < 1 || slash > 8 || text.length() - slash - 1 < 1 || text.length() - slash - 1 > 8) {
            throw new IllegalArgumentException("not an LSN: '" + text + "' (expected two hex numbers like 0/16B3748)");
        }
        return parseHex(text, 0, slash) << 32 | parseHex(text, slash + 1, text.length());
    }

    private static long parseHex(String text, int from, int to) {
        long value = 0;
        for (int i = from; i < to; i++) {
            int digit = Character.digit(text.charAt(i), 16);
            if (digit < 0) {
                throw new IllegalArgumentException("not an LSN: '" + text + "' (expected two hex numbers like 0/16B3748)");
            }
            value = value << 4 | digit;
        }
        return value;
    }

    private static int appendHex(char[] out, int pos, long value) {
        int digits = Math.max(1, (64 - Long.numberOfLeadingZeros(value) + 3) / 4);
        for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) {
            out[pos++] = HEX[(int) (value >>> shift) & 0xF];
        }
        return pos;
    }

    /** Unsigned comparison: LSNs above 2^63 must still order correctly. */
    public static int compare(long a, long b) {
        return Long.compareUnsigned(a, b);
    }
}
