package io.sourcepostgres.config;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcepostgres.airbyte.ConnectorException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The database given in Airbyte's shape ({@code host}, {@code port}, {@code database}, {@code username},
 * {@code jdbc_url_params}, {@code ssl_mode}) turned into the same {@link ConnectionUri} the URI form gives, so that
 * everything after parsing — connections, TLS, failure messages — is one code path for both forms. The PEM text of
 * {@code ssl_mode} travels as the value of {@code sslrootcert}, {@code sslcert} and {@code sslkey}, which take the PEM
 * itself as well as a path ({@link #isInlinePem}).
 */
public final class AirbyteShape {
    /** Keys that describe the database in Airbyte's shape; any of them beside connectionURI mixes the two forms. */
    static final List<String> KEYS = List.of("host", "port", "database", "username", "jdbc_url_params", "ssl_mode");

    /** Parameters that name the server or the login: in Airbyte's shape they have their own fields. */
    private static final List<String> OWN_FIELDS = List.of("host", "port", "user", "dbname", "password");

    private AirbyteShape() {}

    /** A value of sslrootcert, sslcert or sslkey that is PEM text rather than a path. */
    public static boolean isInlinePem(String value) {
        return value != null && value.stripLeading().startsWith("-----BEGIN ");
    }

    /** Which keys of Airbyte's shape the configuration uses. */
    static List<String> keysIn(JsonNode json) {
        List<String> used = new ArrayList<>();
        for (String k : KEYS) {
            if (json.hasNonNull(k)) {
                used.add(k);
            }
        }
        return used;
    }

    static ConnectionUri parse(JsonNode json) {
        for (String required : List.of("host", "database", "username")) {
            if (!json.hasNonNull(required) || json.get(required).asText().isEmpty()) {
                throw ConnectorException.config("'" + required + "' is required: give the database as host, port,"
                        + " database and username (Airbyte's shape), or as connectionURI.");
            }
        }
        Map<String, String> params = jdbcUrlParams(json.path("jdbc_url_params").asText(""));
        JsonNode ssl = json.path("ssl_mode");
        if (ssl.isObject()) {
            String mode = ssl.path("mode").asText();
            if (params.containsKey("sslmode") && !params.get("sslmode").equals(mode)) {
                throw ConnectorException.config("ssl_mode is " + mode + " but jdbc_url_params sets sslmode="
                        + params.get("sslmode") + ": remove sslmode from jdbc_url_params.");
            }
            params.put("sslmode", mode);
            if (!List.of("require", "verify-ca", "verify-full").contains(mode)) {
                // Airbyte's UI keeps the fields of a mode chosen earlier; in these modes they mean nothing.
                return toUri(json, params);
            }
            putPem(params, "sslrootcert", ssl, "ca_certificate");
            putPem(params, "sslcert", ssl, "client_certificate");
            putPem(params, "sslkey", ssl, "client_key");
            String keyPassword = ssl.path("client_key_password").asText("");
            if (!keyPassword.isEmpty()) {
                params.put("sslpassword", keyPassword);
            }
        }
        return toUri(json, params);
    }

    private static ConnectionUri toUri(JsonNode json, Map<String, String> params) {
        String host = json.get("host").asText().trim();
        int port = json.hasNonNull("port") ? json.get("port").asInt() : Spec.defaultOf("port").asInt();
        StringBuilder uri = new StringBuilder("postgres://").append(encode(json.get("username").asText())).append('@')
                .append(host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : encode(host))
                .append(':').append(port).append('/').append(encode(json.get("database").asText()));
        char sep = '?';
        for (Map.Entry<String, String> p : params.entrySet()) {
            uri.append(sep).append(encode(p.getKey())).append('=').append(encode(p.getValue()));
            sep = '&';
        }
        return ConnectionUri.parse(uri.toString());
    }

    /** {@code k=v&k2=v2}, percent-decoded, each name one the URI form honours. */
    static Map<String, String> jdbcUrlParams(String text) {
        Map<String, String> params = new LinkedHashMap<>();
        for (String pair : text.split("&")) {
            if (pair.isBlank()) {
                continue;
            }
            int eq = pair.indexOf('=');
            if (eq <= 0) {
                throw ConnectorException.config("jdbc_url_params has '" + (eq == 0 ? "=..." : "an entry without '='")
                        + "': write it as key1=value1&key2=value2.");
            }
            String name = decode(pair.substring(0, eq).trim());
            if (OWN_FIELDS.contains(name)) {
                throw ConnectorException.config("jdbc_url_params may not set " + name + ": use the "
                        + (name.equals("user") ? "username" : name.equals("dbname") ? "database" : name)
                        + " setting instead.");
            }
            if (!ConnectionUri.SUPPORTED_PARAMETERS.contains(name)) {
                throw ConnectorException.config("jdbc_url_params sets '" + name + "', which this connector does not"
                        + " support. Supported: " + String.join(", ", new TreeSet<>(ConnectionUri.SUPPORTED_PARAMETERS))
                        + " (libpq's names, as in connectionURI).");
            }
            params.put(name, decode(pair.substring(eq + 1)));
        }
        return params;
    }

    private static void putPem(Map<String, String> params, String parameter, JsonNode ssl, String field) {
        String pem = ssl.path(field).asText("");
        if (pem.isBlank()) {
            return;
        }
        if (!isInlinePem(pem)) {
            throw ConnectorException.config("ssl_mode." + field + " must be the PEM text itself (starting with"
                    + " -----BEGIN ...), not a path. Paste the file's content.");
        }
        params.put(parameter, pem);
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static String decode(String s) {
        try {
            return java.net.URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw ConnectorException.config("jdbc_url_params has a bad percent-escape; write a literal % as %25.");
        }
    }
}
