package io.sourcepostgres.values;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class ValueEncodersTest {
    @Test
    void domainsAreEncodedAsTheirBaseType() {
        PgType inner = new PgType(16800, "public", "amount", 'd', 'N', null, Encoding.NUMERIC, List.of());
        PgType outer = new PgType(16801, "public", "price", 'd', 'N', null, inner, List.of());
        assertThat(Encoding.json(outer, "12.30")).isEqualTo("12.30");
        PgType stamp = new PgType(16802, "public", "stamp", 'd', 'D', null, Encoding.TIMESTAMPTZ, List.of());
        assertThat(Encoding.json(stamp, "2024-01-02 03:04:05+00")).isEqualTo("\"2024-01-02T03:04:05Z\"");
    }

    @Test
    void aDomainOverAnArrayIsAnArray() {
        PgType ints = Encoding.arrayOf(Encoding.INT4);
        PgType domain = new PgType(16803, "public", "ints", 'd', 'A', null, ints, List.of());
        assertThat(Encoding.json(domain, "{1,2}")).isEqualTo("[1,2]");
    }

    @Test
    void onlyBoxUsesTheSemicolonDelimiter() {
        assertThat(ValueEncoders.arrayDelimiter(Encoding.BOX)).isEqualTo(';');
        assertThat(ValueEncoders.arrayDelimiter(new PgType(16804, "public", "b", 'd', 'G', null, Encoding.BOX, List.of())))
                .isEqualTo(';');
        assertThat(ValueEncoders.arrayDelimiter(Encoding.INT4)).isEqualTo(',');
        assertThat(ValueEncoders.arrayDelimiter(new PgType(16805, "public", "box", 'b', 'U', null, null, List.of())))
                .isEqualTo(',');
    }

    @Test
    void aTypeNamedLikeABuiltinInAnotherSchemaIsItsTextOutput() {
        PgType notBool = new PgType(16806, "public", "bool", 'b', 'U', null, null, List.of());
        assertThat(Encoding.json(notBool, "yes")).isEqualTo("\"yes\"");
    }

    @Test
    void rangesCompositesAndOtherTypesAreTheirTextOutput() {
        PgType range = new PgType(3904, "pg_catalog", "int4range", 'r', 'R', null, null, List.of());
        assertThat(Encoding.json(range, "[1,3)")).isEqualTo("\"[1,3)\"");
        PgType composite = new PgType(16807, "public", "pair", 'c', 'C', null, null, List.of());
        assertThat(Encoding.json(composite, "(1,\"a b\",,\"\")")).isEqualTo("\"(1,\\\"a b\\\",,\\\"\\\")\"");
    }
}
