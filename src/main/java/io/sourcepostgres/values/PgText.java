package io.sourcepostgres.values;

/**
 * Reading helpers for PostgreSQL's text output held as UTF-8 bytes. Every form the encoders read is
 * ASCII where it has structure (digits, signs, quotes, braces), so they work on bytes directly.
 */
final class PgText {
    private PgText() {}

    /** Whether the slice is exactly the given ASCII word. */
    static boolean is(byte[] b, int offset, int length, String word) {
        if (length != word.length()) {
            return false;
        }
        for (int i = 0; i < length; i++) {
            if (b[offset + i] != word.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    static boolean isDigit(byte c) {
        return c >= '0' && c <= '9';
    }

    /** Whether {@code b[from, to)} are all digits and there are {@code min..max} of them. */
    static boolean digits(byte[] b, int from, int to, int min, int max) {
        int n = to - from;
        if (n < min || n > max) {
            return false;
        }
        for (int i = from; i < to; i++) {
            if (!isDigit(b[i])) {
                return false;
            }
        }
        return true;
    }

    /**
     * Whether the slice is a JSON number literal: {@code -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?}.
     * With {@code integerOnly}, fraction and exponent are refused.
     */
    static boolean isJsonNumber(byte[] b, int offset, int length, boolean integerOnly) {
        int i = offset;
        int end = offset + length;
        if (i < end && b[i] == '-') {
            i++;
        }
        if (i >= end) {
            return false;
        }
        if (b[i] == '0') {
            i++;
        } else if (b[i] >= '1' && b[i] <= '9') {
            while (i < end && isDigit(b[i])) {
                i++;
            }
        } else {
            return false;
        }
        if (integerOnly) {
            return i == end;
        }
        if (i < end && b[i] == '.') {
            int start = ++i;
            while (i < end && isDigit(b[i])) {
                i++;
            }
            if (i == start) {
                return false;
            }
        }
        if (i < end && (b[i] == 'e' || b[i] == 'E')) {
            i++;
            if (i < end && (b[i] == '+' || b[i] == '-')) {
                i++;
            }
            int start = i;
            while (i < end && isDigit(b[i])) {
                i++;
            }
            if (i == start) {
                return false;
            }
        }
        return i == end;
    }

    /**
     * The end of a time of day {@code HH:MM:SS[.f{1,6}]} starting at {@code from}, or -1 when there is none.
     * PostgreSQL prints 24:00:00 for the end of a day, so the hour is not range-checked.
     */
    static int timeOfDayEnd(byte[] b, int from, int to) {
        int i = from;
        if (to - i < 8 || !digits(b, i, i + 2, 2, 2) || b[i + 2] != ':' || !digits(b, i + 3, i + 5, 2, 2)
                || b[i + 5] != ':' || !digits(b, i + 6, i + 8, 2, 2)) {
            return -1;
        }
        i += 8;
        if (i < to && b[i] == '.') {
            int start = ++i;
            while (i < to && isDigit(b[i])) {
                i++;
            }
            if (i == start || i - start > 6) {
                return -1;
            }
        }
        return i;
    }

    /**
     * The end of a date {@code Y{4,}-MM-DD} starting at {@code from}, or -1 when there is none. Years past
     * 9999 have more digits.
     */
    static int dateEnd(byte[] b, int from, int to) {
        int i = from;
        while (i < to && isDigit(b[i])) {
            i++;
        }
        if (i - from < 4 || to - i < 6 || b[i] != '-' || !digits(b, i + 1, i + 3, 2, 2) || b[i + 3] != '-'
                || !digits(b, i + 4, i + 6, 2, 2)) {
            return -1;
        }
        return i + 6;
    }

    /** Whether {@code b[at, to)} is exactly {@code " BC"}. */
    static boolean isBcSuffix(byte[] b, int at, int to) {
        return to - at == 3 && b[at] == ' ' && b[at + 1] == 'B' && b[at + 2] == 'C';
    }

    /**
     * Copies {@code b[from, to)} into {@code into} at 0, dropping the backslash of each backslash escape
     * (the quoting of array elements and hstore keys and values); returns the copied length.
     */
    static int unescape(byte[] b, int from, int to, byte[] into) {
        int n = 0;
        for (int i = from; i < to; i++) {
            byte c = b[i];
            if (c == '\\' && i + 1 < to) {
                c = b[++i];
            }
            into[n++] = c;
        }
        return n;
    }

    /**
     * The failure for text that is not in the form the canonical session settings produce: a bug (a
     * connection without {@code SessionSettings}, or a server form not foreseen), never user data to skip.
     * The value itself is left out of the message: it may be sensitive.
     */
    static IllegalArgumentException malformed(String type, String expected) {
        return new IllegalArgumentException("cannot encode a " + type + " value: its text output is not " + expected
                + " (was the connection opened without the canonical session settings of postgres.SessionSettings?)");
    }
}
