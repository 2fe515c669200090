package io.sourcepostgres.values;

import static io.sourcepostgres.values.Encoding.BOOL;
import static io.sourcepostgres.values.Encoding.encode;
import static io.sourcepostgres.values.Encoding.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class BooleanEncoderTest {
    @Test
    void tAndFBecomeJsonBooleans() {
        assertThat(json(BOOL, "t")).isEqualTo("true");
        assertThat(json(BOOL, "f")).isEqualTo("false");
    }

    @Test
    void anyOtherSpellingIsRefusedNotGuessed() {
        for (String text : new String[] {"true", "1", "T", "", "tf"}) {
            assertThatThrownBy(() -> encode(BOOL, text)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("boolean");
        }
    }
}
