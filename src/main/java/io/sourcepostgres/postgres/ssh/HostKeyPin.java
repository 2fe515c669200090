package io.sourcepostgres.postgres.ssh;

import io.sourcepostgres.airbyte.ConnectorException;
import java.net.SocketAddress;
import java.security.PublicKey;
import org.apache.sshd.client.keyverifier.ServerKeyVerifier;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.config.keys.PublicKeyEntryResolver;

/**
 * Checks the bastion's host key against the one pinned in {@code tunnel_host_key} (a known_hosts line, or just its
 * "key-type base64" part), and remembers the key the bastion presented, so that a refusal can name both fingerprints.
 * Without a pin every key is accepted, as Airbyte's tunnel does; the fingerprint is then reported so it can be pinned.
 */
final class HostKeyPin implements ServerKeyVerifier {
    private final PublicKey pinned;
    private volatile PublicKey presented;

    private HostKeyPin(PublicKey pinned) {
        this.pinned = pinned;
    }

    /** @param line a known_hosts line, "type base64 [comment]", or null to accept any key */
    static HostKeyPin of(String line) {
        return new HostKeyPin(line == null ? null : parse(line));
    }

    static PublicKey parse(String line) {
        String[] tokens = line.strip().split("\\s+");
        for (int i = 0; i + 1 < tokens.length; i++) {
            if (tokens[i].startsWith("ssh-") || tokens[i].startsWith("ecdsa-") || tokens[i].startsWith("sk-")) {
                try {
                    PublicKey key = PublicKeyEntry.parsePublicKeyEntry(tokens[i] + " " + tokens[i + 1])
                            .resolvePublicKey(null, null, PublicKeyEntryResolver.FAILING);
                    if (key != null) {
                        return key;
                    }
                } catch (Exception e) {
                    break;
                }
            }
        }
        throw ConnectorException.config("tunnel_method.tunnel_host_key is not a known_hosts line: expected"
                + " '[host] key-type base64-key' such as the output of ssh-keyscan -t ed25519 bastion.example.com"
                + " (types ssh-ed25519, ecdsa-sha2-nistp256/384/521, ssh-rsa).");
    }

    @Override
    public boolean verifyServerKey(ClientSession session, SocketAddress remoteAddress, PublicKey serverKey) {
        presented = serverKey;
        return pinned == null || KeyUtils.compareKeys(pinned, serverKey);
    }

    boolean pinnedKey() {
        return pinned != null;
    }

    /** True once the bastion presented a key other than the pinned one. */
    boolean mismatched() {
        return pinned != null && presented != null && !KeyUtils.compareKeys(pinned, presented);
    }

    String presentedFingerprint() {
        return presented == null ? "unknown" : KeyUtils.getFingerPrint(presented);
    }

    String pinnedFingerprint() {
        return pinned == null ? "none" : KeyUtils.getFingerPrint(pinned);
    }
}
