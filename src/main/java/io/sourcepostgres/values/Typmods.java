package io.sourcepostgres.values;

/**
 * Decodes the type modifiers PostgreSQL stores per column ({@code pg_attribute.atttypmod}) and per domain
 * ({@code pg_type.typtypmod}); -1 means "no modifier". The encodings are the server's own
 * ({@code numeric.c}, {@code varchar.c}): both add the 4-byte varlena header size ({@code VARHDRSZ}).
 */
public final class Typmods {
    private static final int VARHDRSZ = 4;

    private Typmods() {}

    /** The precision of {@code numeric(p,s)}, or -1 for an unconstrained numeric. */
    public static int numericPrecision(int typmod) {
        return typmod < VARHDRSZ ? -1 : ((typmod - VARHDRSZ) >> 16) & 0xffff;
    }

    /**
     * The scale of {@code numeric(p,s)}, or 0 for an unconstrained numeric (check {@link #numericPrecision}
     * first). PostgreSQL 15+ allows a negative scale (rounding to tens, hundreds...): it is stored in the low
     * 11 bits as a two's-complement number, which also decodes the 0..1000 scales of older versions.
     */
    public static int numericScale(int typmod) {
        return typmod < VARHDRSZ ? 0 : (((typmod - VARHDRSZ) & 0x7ff) ^ 1024) - 1024;
    }

    /** The declared length n of {@code varchar(n)} or {@code char(n)}, or -1 when none was declared. */
    public static int characterLength(int typmod) {
        return typmod < VARHDRSZ ? -1 : typmod - VARHDRSZ;
    }
}
