package io.sourcepostgres.postgres.ssh;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.Properties;
import javax.net.SocketFactory;

/**
 * What pgjdbc opens its sockets with (its {@code socketFactory}) when the database is reached through an SSH tunnel:
 * every socket is already connected to the tunnel's local end, so pgjdbc skips resolving and connecting to the
 * database's host name (which may resolve only on the bastion's side) while still using that name for TLS: the
 * server's certificate is checked against the database host, not against 127.0.0.1.
 */
public final class TunnelSocketFactory extends SocketFactory {
    /** The connection property that carries the local port of the tunnel. */
    public static final String PORT_PROPERTY = "sourcepostgres.tunnelPort";

    private final int port;

    public TunnelSocketFactory(Properties info) {
        this.port = Integer.parseInt(info.getProperty(PORT_PROPERTY));
    }

    @Override
    public Socket createSocket() throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        return s;
    }

    @Override
    public Socket createSocket(String host, int ignoredPort) throws IOException {
        return createSocket();
    }

    @Override
    public Socket createSocket(String host, int ignoredPort, InetAddress localHost, int localPort) throws IOException {
        return createSocket();
    }

    @Override
    public Socket createSocket(InetAddress host, int ignoredPort) throws IOException {
        return createSocket();
    }

    @Override
    public Socket createSocket(InetAddress address, int ignoredPort, InetAddress localAddress, int localPort)
            throws IOException {
        return createSocket();
    }
}
