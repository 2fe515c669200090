package io.sourcepostgres.postgres.tls;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The blocks of a PEM file ({@code -----BEGIN LABEL----- ... -----END LABEL-----}), with their RFC 1421 headers. */
final class Pem {
    private static final Pattern BLOCK = Pattern.compile(
            "-----BEGIN ([A-Z0-9 ]+)-----\\r?\\n(.*?)-----END \\1-----", Pattern.DOTALL);

    record Block(String label, Map<String, String> headers, byte[] der) {
        boolean legacyEncrypted() {
            return headers.getOrDefault("Proc-Type", "").contains("ENCRYPTED");
        }
    }

    private Pem() {}

    static boolean looksLikePem(byte[] bytes) {
        return new String(bytes, StandardCharsets.ISO_8859_1).contains("-----BEGIN ");
    }

    static List<Block> blocks(byte[] bytes) {
        String text = new String(bytes, StandardCharsets.ISO_8859_1);
        List<Block> blocks = new ArrayList<>();
        Matcher m = BLOCK.matcher(text);
        while (m.find()) {
            Map<String, String> headers = new LinkedHashMap<>();
            StringBuilder body = new StringBuilder();
            for (String line : m.group(2).split("\\r?\\n")) {
                int colon = line.indexOf(':');
                if (colon > 0) {
                    headers.put(line.substring(0, colon).trim(), line.substring(colon + 1).trim());
                } else {
                    body.append(line.trim());
                }
            }
            byte[] der;
            try {
                der = Base64.getDecoder().decode(body.toString());
            } catch (IllegalArgumentException e) {
                der = null; // reported by the caller as a block it cannot read
            }
            blocks.add(new Block(m.group(1), Map.copyOf(headers), der));
        }
        return blocks;
    }
}
