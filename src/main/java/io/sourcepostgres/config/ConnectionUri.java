package io.sourcepostgres.config;

import io.sourcepostgres.airbyte.ConnectorException;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A libpq connection URI ({@code postgres://user:password@host:port/db?sslmode=...}), parsed by the
 * rules of libpq: percent-decoding everywhere, bracketed IPv6 hosts, several comma-separated hosts,
 * parameters in the query string that may also carry host, port, user, password and dbname.
 * {@link #toString()} never shows the password.
 */
public record ConnectionUri(
        List<HostPort> hosts,
        String user,
        String password,
        String database,
        Map<String, String> parameters) {

    public record HostPort(String host, int port) {
        @Override
        public String toString() {
            return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
        }
    }

    public static final int DEFAULT_PORT = 5432;

    /** libpq parameters we honour, besides the ones that name the host, user, password and database. */
    public static final Set<String> SUPPORTED_PARAMETERS = Set.of(
            "sslmode", "sslrootcert", "sslcert", "sslkey", "sslpassword", "application_name",
            "connect_timeout", "options", "target_session_attrs", "keepalives", "keepalives_idle");

    /** Parameters whose value is a secret: never shown. */
    private static final Set<String> SECRET_PARAMETERS = Set.of("sslpassword");

    private static final Set<String> SSL_MODES =
            Set.of("disable", "allow", "prefer", "require", "verify-ca", "verify-full");

    public static ConnectionUri parse(String uri) {
        if (uri == null || uri.isBlank()) {
            throw ConnectorException.config("connectionURI is empty. Give a libpq URI such as "
                    + "postgres://user@host:5432/database?sslmode=require.");
        }
        String rest;
        if (uri.startsWith("postgresql://")) {
            rest = uri.substring("postgresql://".length());
        } else if (uri.startsWith("postgres://")) {
            rest = uri.substring("postgres://".length());
        } else {
            throw ConnectorException.config("connectionURI must start with postgres:// or postgresql:// "
                    + "(e.g. postgres://user@host:5432/database?sslmode=require); got '" + safePrefix(uri) + "'.");
        }

        String query = null;
        int q = rest.indexOf('?');
        if (q >= 0) {
            query = rest.substring(q + 1);
            rest = rest.substring(0, q);
        }
        String path = null;
        int slash = rest.indexOf('/');
        if (slash >= 0) {
            path = rest.substring(slash + 1);
            rest = rest.substring(0, slash);
        }
        String userInfo = null;
        int at = rest.lastIndexOf('@');
        if (at >= 0) {
            userInfo = rest.substring(0, at);
            rest = rest.substring(at + 1);
        }

        if (userInfo == null && !namesUserParameter(query)
                && ((path != null && path.indexOf('@') >= 0) || (query != null && query.indexOf('@') >= 0))) {
            // No '@' before the first '/' or '?', but one after it: almost surely a user name or password with an
            // unencoded '/' or '?'. Parsing on would quote pieces of the password in its error messages.
            throw ConnectorException.config("connectionURI cannot be split into user, host and database: a '/', '?'"
                    + " or '@' inside the user name or password must be written percent-encoded (percent-encode"
                    + " '/' as %2F, '?' as %3F, '@' as %40, ':' as %3A, '%' as %25), or leave the password out of the"
                    + " URI and give it in the password setting.");
        }

        String user = null;
        String password = null;
        if (userInfo != null) {
            int colon = userInfo.indexOf(':');
            if (colon >= 0) {
                user = decode(userInfo.substring(0, colon), "user name");
                password = decode(userInfo.substring(colon + 1), "password");
            } else {
                user = decode(userInfo, "user name");
            }
        }

        Map<String, String> params = new LinkedHashMap<>();
        if (query != null && !query.isEmpty()) {
            for (String pair : query.split("&")) {
                if (pair.isEmpty()) {
                    continue;
                }
                int eq = pair.indexOf('=');
                if (eq < 0) {
                    throw ConnectorException.config("connectionURI parameter '" + decode(pair, "parameter")
                            + "' has no value; write it as name=value.");
                }
                params.put(decode(pair.substring(0, eq), "parameter name"), decode(pair.substring(eq + 1), "parameter value"));
            }
        }

        String hostList = params.remove("host");
        String portList = params.remove("port");
        if (params.containsKey("user")) {
            user = params.remove("user");
        }
        if (params.containsKey("password")) {
            password = params.remove("password");
        }
        String database = path == null || path.isEmpty() ? null : decode(path, "database name");
        if (params.containsKey("dbname")) {
            database = params.remove("dbname");
        }

        for (String name : params.keySet()) {
            if (!SUPPORTED_PARAMETERS.contains(name)) {
                throw ConnectorException.config("connectionURI parameter '" + name + "' is not supported. "
                        + "Supported parameters: " + String.join(", ", new java.util.TreeSet<>(SUPPORTED_PARAMETERS))
                        + ", host, port, user, password, dbname.");
            }
        }
        String sslmode = params.get("sslmode");
        if (sslmode != null && !SSL_MODES.contains(sslmode)) {
            throw ConnectorException.config("sslmode '" + sslmode + "' is not one of disable, allow, prefer, require, "
                    + "verify-ca, verify-full.");
        }
        String timeout = params.get("connect_timeout");
        if (timeout != null && !timeout.matches("\\d{1,9}")) {
            throw ConnectorException.config("connect_timeout '" + timeout + "' must be a whole number of seconds.");
        }

        List<HostPort> hosts = parseHosts(hostList != null ? hostList : rest, portList);
        if (user == null || user.isEmpty()) {
            throw ConnectorException.config("connectionURI names no user. Put it before the host: "
                    + "postgres://USER@" + hosts.get(0) + "/" + (database == null ? "DATABASE" : database) + ".");
        }
        if (database == null || database.isEmpty()) {
            database = user; // libpq's default
        }
        return new ConnectionUri(List.copyOf(hosts), user, password, database, Map.copyOf(params));
    }

    public String parameter(String name) {
        return parameters.get(name);
    }

    /** host:port[,host:port] as a person would read it. */
    public String describeHosts() {
        StringBuilder sb = new StringBuilder();
        for (HostPort hp : hosts) {
            if (sb.length() > 0) {
                sb.append(',');
            }
            sb.append(hp);
        }
        return sb.toString();
    }

    @Override
    public String toString() {
        StringBuilder query = new StringBuilder();
        new java.util.TreeMap<>(parameters).forEach((name, value) -> query.append(query.length() == 0 ? "?" : "&")
                .append(name).append('=').append(SECRET_PARAMETERS.contains(name) ? "****"
                        : AirbyteShape.isInlinePem(value) ? "<inline PEM>" : value));
        return "postgres://" + user + (password == null ? "" : ":****") + "@" + describeHosts() + "/" + database
                + query;
    }

    private static boolean namesUserParameter(String query) {
        if (query == null) {
            return false;
        }
        for (String pair : query.split("&")) {
            if (pair.startsWith("user=")) {
                return true;
            }
        }
        return false;
    }

    private static List<HostPort> parseHosts(String spec, String portList) {
        List<String> hostParts = splitHosts(spec);
        String[] ports = portList == null ? new String[0] : portList.split(",", -1);
        if (ports.length > 1 && ports.length != hostParts.size()) {
            throw ConnectorException.config("connectionURI gives " + hostParts.size() + " hosts but " + ports.length
                    + " ports; give one port, or one per host.");
        }
        List<HostPort> hosts = new ArrayList<>();
        for (int i = 0; i < hostParts.size(); i++) {
            String part = hostParts.get(i);
            String host;
            String port = null;
            if (part.startsWith("[")) {
                int close = part.indexOf(']');
                if (close < 0) {
                    throw ConnectorException.config("connectionURI host '" + part + "' opens '[' without closing it.");
                }
                host = part.substring(1, close);
                String after = part.substring(close + 1);
                if (after.startsWith(":")) {
                    port = after.substring(1);
                } else if (!after.isEmpty()) {
                    throw ConnectorException.config("connectionURI host '" + part + "' has text after ']'.");
                }
            } else {
                int colon = part.lastIndexOf(':');
                if (colon >= 0) {
                    host = part.substring(0, colon);
                    port = part.substring(colon + 1);
                } else {
                    host = part;
                }
            }
            host = decode(host, "host");
            if (port == null || port.isEmpty()) {
                port = ports.length == 0 ? null : ports[ports.length == 1 ? 0 : i];
            }
            hosts.add(new HostPort(host.isEmpty() ? "localhost" : host, parsePort(port)));
        }
        return hosts;
    }

    private static List<String> splitHosts(String spec) {
        List<String> parts = new ArrayList<>();
        if (spec == null || spec.isEmpty()) {
            parts.add("");
            return parts;
        }
        int depth = 0;
        int start = 0;
        for (int i = 0; i < spec.length(); i++) {
            char c = spec.charAt(i);
            if (c == '[') {
                depth++;
            } else if (c == ']') {
                depth--;
            } else if (c == ',' && depth == 0) {
                parts.add(spec.substring(start, i));
                start = i + 1;
            }
        }
        parts.add(spec.substring(start));
        return parts;
    }

    private static int parsePort(String port) {
        if (port == null || port.isEmpty()) {
            return DEFAULT_PORT;
        }
        // Digits only: Integer.parseInt would also take "+5432", which libpq rejects.
        if (port.matches("[0-9]{1,5}")) {
            int p = Integer.parseInt(port);
            if (p >= 1 && p <= 65535) {
                return p;
            }
        }
        throw ConnectorException.config("connectionURI port '" + port + "' is not a number between 1 and 65535.");
    }

    private static String decode(String s, String what) {
        if (s.indexOf('%') < 0) {
            return s;
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '%') {
                if (i + 2 >= s.length() || Character.digit(s.charAt(i + 1), 16) < 0 || Character.digit(s.charAt(i + 2), 16) < 0) {
                    throw ConnectorException.config("connectionURI has a bad percent-escape in the " + what
                            + "; write a literal % as %25.");
                }
                bytes.write(Character.digit(s.charAt(i + 1), 16) * 16 + Character.digit(s.charAt(i + 2), 16));
                i += 2;
            } else {
                // The whole run up to the next escape at once: a character outside the Basic Multilingual Plane is
                // two chars, and encoding either half alone would turn it into '?'.
                int end = s.indexOf('%', i);
                end = end < 0 ? s.length() : end;
                byte[] b = s.substring(i, end).getBytes(StandardCharsets.UTF_8);
                bytes.write(b, 0, b.length);
                i = end - 1;
            }
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    private static String safePrefix(String uri) {
        // Only the scheme: anything after it may hold a password.
        String scheme = uri.split(":", 2)[0];
        return (scheme.length() > 20 ? scheme.substring(0, 20) : scheme) + ":...";
    }
}
