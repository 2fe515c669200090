package io.sourcepostgres.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.config.keys.writer.openssh.OpenSSHKeyPairResourceWriter;
import org.apache.sshd.common.keyprovider.KeyPairProvider;
import org.apache.sshd.common.session.helpers.AbstractSession;
import org.apache.sshd.server.SshServer;
import org.apache.sshd.server.forward.TcpForwardingFilter;

/**
 * A real SSH server (Apache MINA SSHD) on 127.0.0.1 that lets one user forward TCP connections, the way a bastion
 * in front of a private database does: log in with an authorized key or a password, then direct-tcpip channels to
 * any target. On command it drops every session (a bastion restarted or a network cut) or refuses forwarding.
 */
public final class SshBastion implements AutoCloseable {
    public static final String USER = "tunnel";
    public static final String PASSWORD = "Ss#h-pa55:w@rd";

    private final SshServer server;
    private final KeyPair hostKey;
    private final List<PublicKey> authorized = new CopyOnWriteArrayList<>();
    private final AtomicLong forwarded = new AtomicLong();
    private volatile boolean refuseForwarding;

    private SshBastion(SshServer server, KeyPair hostKey) {
        this.server = server;
        this.hostKey = hostKey;
    }

    public static SshBastion start() {
        KeyPair hostKey = ed25519();
        SshServer server = SshServer.setUpDefaultServer();
        server.setHost("127.0.0.1");
        server.setPort(0);
        server.setKeyPairProvider(KeyPairProvider.wrap(hostKey));
        SshBastion bastion = new SshBastion(server, hostKey);
        server.setPublickeyAuthenticator((user, key, session) -> USER.equals(user)
                && bastion.authorized.stream().anyMatch(k -> KeyUtils.compareKeys(k, key)));
        server.setPasswordAuthenticator((user, password, session) -> USER.equals(user) && PASSWORD.equals(password));
        server.setForwardingFilter(new org.apache.sshd.server.forward.AcceptAllForwardingFilter() {
            @Override
            public boolean canConnect(TcpForwardingFilter.Type type, org.apache.sshd.common.util.net.SshdSocketAddress address,
                    org.apache.sshd.common.session.Session session) {
                bastion.forwarded.incrementAndGet();
                return !bastion.refuseForwarding;
            }
        });
        try {
            server.start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bastion;
    }

    public int port() {
        return server.getPort();
    }

    /** A new Ed25519 key pair. */
    public static KeyPair ed25519() {
        try {
            return KeyUtils.generateKeyPair("ssh-ed25519", 256);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A new 2048-bit RSA key pair. */
    public static KeyPair rsa() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
            g.initialize(2048);
            return g.generateKeyPair();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Lets {@code key} log in as {@link #USER}. */
    public SshBastion authorize(KeyPair key) {
        authorized.add(key.getPublic());
        return this;
    }

    /** The private key in OpenSSH format, as ssh-keygen writes it today. */
    public static String openSsh(KeyPair key) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            OpenSSHKeyPairResourceWriter.INSTANCE.writePrivateKey(key, "test", null, out);
            return out.toString(StandardCharsets.US_ASCII);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** The private key as PEM PKCS#8 (BEGIN PRIVATE KEY). */
    public static String pkcs8Pem(KeyPair key) {
        return "-----BEGIN PRIVATE KEY-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(key.getPrivate().getEncoded())
                + "\n-----END PRIVATE KEY-----\n";
    }

    /** The bastion's host key as a known_hosts line. */
    public String knownHostsLine() {
        return "[127.0.0.1]:" + port() + " " + PublicKeyEntry.toString(hostKey.getPublic());
    }

    /** How many forwarded connections the bastion was asked to open. */
    public long forwardedConnections() {
        return forwarded.get();
    }

    public void refuseForwarding(boolean refuse) {
        this.refuseForwarding = refuse;
    }

    /** Drops every SSH session at once, and with them every connection forwarded through them. */
    public void cutAll() {
        for (AbstractSession s : server.getActiveSessions()) {
            s.close(true);
        }
    }

    @Override
    public void close() {
        try {
            server.stop(true);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
