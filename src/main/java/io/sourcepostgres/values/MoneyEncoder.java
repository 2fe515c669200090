package io.sourcepostgres.values;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;

/**
 * {@code money}: under {@code lc_monetary = C} PostgreSQL prints {@code -$1,000.00} (sign, {@code $},
 * thousands separated by commas, two decimals). The JSON value is the exact decimal {@code -1000.00}:
 * the sign, the digits and the decimal point, nothing else.
 */
final class MoneyEncoder implements ValueEncoder {
    static final MoneyEncoder INSTANCE = new MoneyEncoder();

    private MoneyEncoder() {}

    @Override
    public boolean write(JsonGenerator out, byte[] utf8, int offset, int length) throws IOException {
        byte[] number = new byte[length];
        int n = 0;
        int i = offset;
        int end = offset + length;
        if (i < end && utf8[i] == '-') {
            number[n++] = '-';
            i++;
        }
        if (i < end && utf8[i] == '$') {
            i++;
        }
        for (; i < end; i++) {
            byte c = utf8[i];
            if (PgText.isDigit(c) || c == '.') {
                number[n++] = c;
            } else if (c != ',') {
                throw PgText.malformed("money", "in the C locale's form -$1,234.56");
            }
        }
        if (!PgText.isJsonNumber(number, 0, n, false)) {
            throw PgText.malformed("money", "in the C locale's form -$1,234.56");
        }
        Utf8Json.rawValue(out, number, 0, n);
        return true;
    }
}
