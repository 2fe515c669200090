package io.sourcepostgres.config;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcepostgres.airbyte.ConnectorException;

/**
 * {@code tunnel_method} in Airbyte's shape: reach the database through an SSH bastion, logging in with a key or a
 * password. {@link #toString()} never shows either.
 *
 * @param privateKey PEM or OpenSSH private key text (SSH_KEY_AUTH); null otherwise
 * @param password the bastion user's password (SSH_PASSWORD_AUTH); null otherwise
 * @param hostKey a known_hosts line (or "type base64") the bastion's host key must match; null accepts any
 */
public record SshTunnelSettings(String host, int port, String user, String privateKey, String password,
        String hostKey) {

    /** The tunnel the configuration asks for, or null for NO_TUNNEL or no tunnel_method at all. */
    static SshTunnelSettings from(JsonNode tunnel) {
        if (tunnel == null || tunnel.isNull() || "NO_TUNNEL".equals(tunnel.path("tunnel_method").asText())) {
            return null;
        }
        String method = tunnel.path("tunnel_method").asText();
        int port = tunnel.hasNonNull("tunnel_port") ? tunnel.get("tunnel_port").asInt()
                : Spec.branchProperty("tunnel_method", method, "tunnel_port").path("default").asInt(22);
        String hostKey = tunnel.path("tunnel_host_key").asText("").strip();
        String host = tunnel.path("tunnel_host").asText("").strip();
        String user = tunnel.path("tunnel_user").asText("");
        if (host.isEmpty() || user.isEmpty()) {
            throw ConnectorException.config("tunnel_method." + (host.isEmpty() ? "tunnel_host" : "tunnel_user")
                    + " is empty: give the bastion's host name and the user to log in as.");
        }
        if (method.equals("SSH_KEY_AUTH")) {
            String key = tunnel.path("ssh_key").asText("");
            if (key.isBlank()) {
                throw ConnectorException.config("tunnel_method.ssh_key is empty: paste the private key (PEM or OpenSSH"
                        + " format) that the bastion accepts for " + user + ".");
            }
            return new SshTunnelSettings(host, port, user, key, null, hostKey.isEmpty() ? null : hostKey);
        }
        return new SshTunnelSettings(host, port, user, null, tunnel.path("tunnel_user_password").asText(""),
                hostKey.isEmpty() ? null : hostKey);
    }

    public boolean usesKey() {
        return privateKey != null;
    }

    /** user@host:port, for messages. */
    public String describe() {
        return user + "@" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }

    @Override
    public String toString() {
        return "SshTunnelSettings[" + describe() + (usesKey() ? ", key" : ", password") + "]";
    }
}
