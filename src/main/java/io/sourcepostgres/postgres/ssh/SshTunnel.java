package io.sourcepostgres.postgres.ssh;

import io.sourcepostgres.airbyte.ConnectorException;
import io.sourcepostgres.config.SshTunnelSettings;
import java.io.IOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.security.KeyPair;
import java.time.Duration;
import java.util.logging.Logger;
import org.apache.sshd.client.SshClient;
import org.apache.sshd.client.channel.ChannelDirectTcpip;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.client.session.forward.ExplicitPortForwardingTracker;
import org.apache.sshd.common.channel.exception.SshChannelOpenException;
import org.apache.sshd.common.util.net.SshdSocketAddress;
import org.apache.sshd.core.CoreModuleProperties;

/**
 * An SSH session to the bastion with a local port forward to the database: both the query and the replication
 * connections go through it ({@link TunnelSocketFactory}). Opening it checks each step on its own, so a failure
 * names its cause: the bastion unreachable, its host key not the pinned one, the login refused, or the bastion unable
 * to reach the database. Keepalives on the session detect a bastion that goes silent: after
 * {@value #KEEPALIVE_MISSES} unanswered ones the session is closed, which closes every forwarded connection and ends
 * the run with a transient error, as a silent server does.
 */
public final class SshTunnel implements AutoCloseable {
    static final Duration KEEPALIVE_INTERVAL = Duration.ofSeconds(10);
    static final int KEEPALIVE_MISSES = 3;
    private static final Logger LOG = Logger.getLogger(SshTunnel.class.getName());

    private final SshClient client;
    private final ClientSession session;
    private final int localPort;

    private SshTunnel(SshClient client, ClientSession session, int localPort) {
        this.client = client;
        this.session = session;
        this.localPort = localPort;
    }

    /** The port on 127.0.0.1 that leads to the database. */
    public int localPort() {
        return localPort;
    }

    public boolean isOpen() {
        return session.isOpen();
    }

    public static SshTunnel open(SshTunnelSettings settings, String dbHost, int dbPort, Duration timeout) {
        HostKeyPin pin = HostKeyPin.of(settings.hostKey());
        KeyPair[] keys = settings.usesKey() ? SshKeys.read(settings.privateKey()).toArray(KeyPair[]::new) : null;
        SshClient client = SshClient.setUpDefaultClient();
        client.setServerKeyVerifier(pin);
        CoreModuleProperties.HEARTBEAT_INTERVAL.set(client, KEEPALIVE_INTERVAL);
        CoreModuleProperties.HEARTBEAT_REPLY_WAIT.set(client, KEEPALIVE_INTERVAL);
        CoreModuleProperties.HEARTBEAT_NO_REPLY_MAX.set(client, KEEPALIVE_MISSES);
        CoreModuleProperties.PASSWORD_PROMPTS.set(client, 1);
        // The forwarded connections carry their own timeouts (the replication stall check, socket timeouts); the
        // session itself must never be closed for being idle between them.
        CoreModuleProperties.IDLE_TIMEOUT.set(client, Duration.ZERO);
        CoreModuleProperties.NIO2_READ_TIMEOUT.set(client, Duration.ZERO);
        client.start();
        String bastion = settings.describe();
        ClientSession session = null;
        try {
            session = connect(client, settings, timeout, bastion);
            if (keys != null) {
                for (KeyPair k : keys) {
                    session.addPublicKeyIdentity(k);
                }
            } else {
                session.addPasswordIdentity(settings.password());
            }
            authenticate(session, pin, settings, timeout, bastion);
            if (!pin.pinnedKey()) {
                LOG.warning("SSH host key of " + bastion + " accepted without a pin (" + pin.presentedFingerprint()
                        + "); set tunnel_method.tunnel_host_key to refuse any other key.");
            }
            SshdSocketAddress target = new SshdSocketAddress(dbHost, dbPort);
            probe(session, target, bastion, timeout);
            ExplicitPortForwardingTracker forward = session.createLocalPortForwardingTracker(
                    new SshdSocketAddress("127.0.0.1", 0), target);
            return new SshTunnel(client, session, forward.getBoundAddress().getPort());
        } catch (IOException e) {
            closeQuietly(client, session);
            throw ConnectorException.transientError("The SSH tunnel through " + bastion + " failed while being set"
                    + " up: " + e.getMessage() + ". Retry; if it fails again, check that the bastion allows TCP"
                    + " forwarding (AllowTcpForwarding yes in sshd_config).", e);
        } catch (RuntimeException e) {
            closeQuietly(client, session);
            throw e;
        }
    }

    private static ClientSession connect(SshClient client, SshTunnelSettings s, Duration timeout, String bastion) {
        try {
            return client.connect(s.user(), s.host(), s.port()).verify(timeout).getSession();
        } catch (IOException e) {
            Throwable root = root(e);
            if (root instanceof UnknownHostException) {
                throw ConnectorException.config("Cannot resolve the SSH bastion's host name " + s.host()
                        + ". Check tunnel_method.tunnel_host.", e);
            }
            String why = root instanceof ConnectException || root instanceof NoRouteToHostException
                    ? root.getMessage() : root instanceof SocketTimeoutException || isTimeout(e)
                    ? "no answer within " + timeout.toSeconds() + " s" : String.valueOf(e.getMessage());
            throw ConnectorException.transientError("The SSH bastion " + bastion + " is unreachable (" + why + ")."
                    + " Check tunnel_method.tunnel_host and tunnel_port, that sshd runs there, and that no firewall"
                    + " blocks the connector's address.", e);
        }
    }

    private static void authenticate(ClientSession session, HostKeyPin pin, SshTunnelSettings s, Duration timeout,
            String bastion) {
        try {
            session.auth().verify(timeout);
        } catch (IOException e) {
            if (pin.mismatched()) {
                throw ConnectorException.config("The SSH bastion " + bastion + " presented host key "
                        + pin.presentedFingerprint() + ", not the one pinned in tunnel_method.tunnel_host_key ("
                        + pin.pinnedFingerprint() + "). If the bastion's key was changed on purpose, pin the new one"
                        + " (ssh-keyscan " + s.host() + "); otherwise something is between you and the bastion.", e);
            }
            if (!session.isOpen() && !session.isAuthenticated() && isTimeout(e)) {
                throw ConnectorException.transientError("The SSH bastion " + bastion + " did not complete the login"
                        + " within " + timeout.toSeconds() + " s. Retry; check that the bastion is not overloaded.", e);
            }
            throw ConnectorException.config("The SSH bastion " + bastion + " refused the login of user "
                    + s.user() + " with " + (s.usesKey() ? "the key in tunnel_method.ssh_key. Check that its public key"
                            + " is in ~" + s.user() + "/.ssh/authorized_keys on the bastion"
                            : "the password in tunnel_method.tunnel_user_password. Check the password, and that the"
                            + " bastion allows password logins (PasswordAuthentication yes)")
                    + " and that tunnel_user is right.", e);
        }
    }

    /**
     * Opens one forwarded channel to the database and closes it again: the bastion's refusal (the database host
     * unknown or refusing on its side, or forwarding not allowed) is then named as such, instead of surfacing later
     * as a connection the driver sees closed without a word.
     */
    private static void probe(ClientSession session, SshdSocketAddress target, String bastion, Duration timeout)
            throws IOException {
        ChannelDirectTcpip channel = session.createDirectTcpipChannel(new SshdSocketAddress("127.0.0.1", 0), target);
        try {
            channel.open().verify(timeout);
        } catch (IOException e) {
            SshChannelOpenException refused = find(e, SshChannelOpenException.class);
            if (refused != null && refused.getReasonCode() == 1) { // SSH_OPEN_ADMINISTRATIVELY_PROHIBITED
                throw ConnectorException.config("The SSH bastion " + bastion + " does not let user forward"
                        + " connections (" + refused.getMessage() + "). Allow it in the bastion's sshd_config:"
                        + " AllowTcpForwarding yes (and PermitOpen, if set, must include " + target + ").", e);
            }
            throw ConnectorException.transientError("The SSH bastion " + bastion + " cannot reach the database at "
                    + target + (refused == null ? "" : " (" + refused.getMessage() + ")") + ". Check host and port as"
                    + " seen from the bastion (a name that resolves there, the database's private address), that the"
                    + " database listens on it, and that no firewall between bastion and database blocks it.", e);
        } finally {
            channel.close(true);
        }
    }

    @Override
    public void close() {
        closeQuietly(client, session);
    }

    private static void closeQuietly(SshClient client, ClientSession session) {
        try {
            if (session != null) {
                session.close(true);
            }
        } finally {
            client.stop();
        }
    }

    private static boolean isTimeout(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            String m = t.getMessage();
            if (t instanceof SocketTimeoutException || t instanceof java.util.concurrent.TimeoutException
                    || (m != null && m.toLowerCase(java.util.Locale.ROOT).contains("timeout"))) {
                return true;
            }
        }
        return false;
    }

    private static <T extends Throwable> T find(Throwable e, Class<T> type) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return type.cast(t);
            }
        }
        return null;
    }

    private static Throwable root(Throwable t) {
        Throwable r = t;
        while (r.getCause() != null && r.getCause() != r) {
            r = r.getCause();
        }
        return r;
    }
}
