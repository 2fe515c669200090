package io.sourcepostgres.values;

import static io.sourcepostgres.values.Encoding.MONEY;
import static io.sourcepostgres.values.Encoding.encode;
import static io.sourcepostgres.values.Encoding.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class MoneyEncoderTest {
    @Test
    void currencySymbolAndSeparatorsAreDroppedDigitsKept() {
        // Copied from PostgreSQL 17 output under lc_monetary = C.
        assertThat(json(MONEY, "-$1,000.50")).isEqualTo("-1000.50");
        assertThat(json(MONEY, "$0.00")).isEqualTo("0.00");
        assertThat(json(MONEY, "-$0.01")).isEqualTo("-0.01");
        assertThat(json(MONEY, "$12.30")).isEqualTo("12.30");
    }

    @Test
    void theLargestAndSmallestAmountsAreExact() {
        assertThat(json(MONEY, "$92,233,720,368,547,758.07")).isEqualTo("92233720368547758.07");
        assertThat(json(MONEY, "-$92,233,720,368,547,758.08")).isEqualTo("-92233720368547758.08");
    }

    @Test
    void anotherLocalesFormIsRefused() {
        for (String text : new String[] {"1.000,50 €", "($5.00)", "", "$", "EUR 5"}) {
            assertThatThrownBy(() -> encode(MONEY, text)).as(text).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("money");
        }
    }
}
