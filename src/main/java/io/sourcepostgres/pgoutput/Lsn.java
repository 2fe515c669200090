package io.sourcepostgres.pgoutput;

/** WAL positions: unsigned 64-bit values, written by PostgreSQL as two hex halves ({@code 16/B374D848}). */
public final class Lsn {
    public static final long INVALID = 0L;

    private Lsn() {}

    public static String format(long lsn) {
        return Long.toHexString(lsn >>> 32).toUpperCase(java.util.Locale.ROOT) + "/"
                + Long.toHexString(lsn & 0xFFFFFFFFL).toUpperCase(java.util.Locale.ROOT);
    }

    public static long parse(String text) {
        int slash = text == null ? -1 : text.indexOf('/');
        if (slash <= 0 || slash == text.length() - 1 || slash > 8 || text.length() - slash - 1 > 8) {
            throw new IllegalArgumentException("not an LSN: " + text);
        }
        try {
            long hi = Long.parseLong(text.substring(0, slash), 16);
            long lo = Long.parseLong(text.substring(slash + 1), 16);
            return (hi << 32) | lo;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not an LSN: " + text, e);
        }
    }

    /** Unsigned comparison: LSNs above 2^63 must still order correctly. */
    public static int compare(long a, long b) {
        return Long.compareUnsigned(a, b);
    }
}
