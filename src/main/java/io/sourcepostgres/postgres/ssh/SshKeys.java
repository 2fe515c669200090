package io.sourcepostgres.postgres.ssh;

import io.sourcepostgres.airbyte.ConnectorException;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.util.ArrayList;
import java.util.List;
import org.apache.sshd.common.NamedResource;
import org.apache.sshd.common.util.security.SecurityUtils;

/**
 * The bastion login key from {@code ssh_key}: OpenSSH format (what ssh-keygen writes today, Ed25519 included) or PEM
 * (PKCS#1, SEC1, PKCS#8), read in memory only. A failure never quotes the key or the library's view of it.
 */
final class SshKeys {
    private SshKeys() {}

    static List<KeyPair> read(String text) {
        String normalized = text.strip().replace("\r\n", "\n").replace("\\n", "\n") + "\n";
        List<KeyPair> keys = new ArrayList<>();
        try {
            Iterable<KeyPair> loaded = SecurityUtils.loadKeyPairIdentities(null, NamedResource.ofName("ssh_key"),
                    new ByteArrayInputStream(normalized.getBytes(StandardCharsets.UTF_8)), null);
            if (loaded != null) {
                loaded.forEach(keys::add);
            }
        } catch (Exception e) {
            boolean encrypted = normalized.contains("ENCRYPTED") || e.getClass().getSimpleName().contains("Password");
            throw ConnectorException.config("tunnel_method.ssh_key cannot be read"
                    + (encrypted ? ": it is protected by a passphrase, which is not supported. Remove the passphrase"
                            + " from a copy: ssh-keygen -p -N '' -f copy_of_key" : " (" + e.getClass().getSimpleName()
                            + "). Give the private key in OpenSSH format (BEGIN OPENSSH PRIVATE KEY) or PEM (BEGIN RSA"
                            + " PRIVATE KEY, EC PRIVATE KEY or PRIVATE KEY), whole and with its line breaks."));
        }
        if (keys.isEmpty()) {
            throw ConnectorException.config("tunnel_method.ssh_key holds no private key. Give the private key in OpenSSH"
                    + " format (BEGIN OPENSSH PRIVATE KEY) or PEM (BEGIN RSA PRIVATE KEY, EC PRIVATE KEY or PRIVATE KEY),"
                    + " not the public key (.pub).");
        }
        return keys;
    }
}
