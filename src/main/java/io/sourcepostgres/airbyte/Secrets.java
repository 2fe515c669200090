package io.sourcepostgres.airbyte;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The secrets this run knows of (passwords), and their removal from any text that leaves the process.
 * Every LOG and TRACE text passes through {@link #redact}: a driver message or a stack trace that quotes
 * a connection string must never carry a password out.
 */
public final class Secrets {
    private static final String MASK = "****";
    private final List<String> secrets = new CopyOnWriteArrayList<>();

    public void register(String secret) {
        if (secret != null && !secret.isEmpty() && !secrets.contains(secret)) {
            secrets.add(secret);
            String encoded = java.net.URLEncoder.encode(secret, java.nio.charset.StandardCharsets.UTF_8);
            if (!encoded.equals(secret)) {
                secrets.add(encoded);
                secrets.add(encoded.replace("+", "%20"));
            }
        }
    }

    public String redact(String text) {
        if (text == null) {
            return null;
        }
        String out = text;
        for (String s : secrets) {
            out = out.replace(s, MASK);
        }
        return out;
    }
}
