package io.sourcepostgres.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP proxy on 127.0.0.1 between the connector and a server, for fault tests. On command it cuts every
 * open connection (both sides closed, like a reset middlebox), stalls them (stops forwarding in both
 * directions without closing anything, like a silent network partition), or drops new connections as soon
 * as they are accepted. Each forwarding direction is a thread reading and writing plain blocking sockets.
 */
public final class FaultProxy implements AutoCloseable {
    private final ServerSocket listener;
    private final int targetPort;
    private final List<Socket> open = new CopyOnWriteArrayList<>();
    private final Object stallLock = new Object();
    private final AtomicLong accepted = new AtomicLong();
    private volatile boolean stalled;
    private volatile boolean dropNew;
    private volatile boolean closed;

    private FaultProxy(int targetPort) throws IOException {
        this.targetPort = targetPort;
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread t = new Thread(this::acceptLoop, "fault-proxy-accept-" + listener.getLocalPort());
        t.setDaemon(true);
        t.start();
    }

    /** A proxy in front of the server listening on 127.0.0.1:{@code targetPort}. */
    public static FaultProxy to(int targetPort) {
        try {
            return new FaultProxy(targetPort);
        } catch (IOException e) {
            throw new IllegalStateException("cannot open a proxy port", e);
        }
    }

    public int port() {
        return listener.getLocalPort();
    }

    /** How many client connections were accepted so far. */
    public long accepted() {
        return accepted.get();
    }

    /** Closes every open connection on both sides; new connections are still forwarded. */
    public void cutAll() {
        for (Socket s : open) {
            closeQuietly(s);
        }
        open.clear();
    }

    /** Stops forwarding any byte in either direction, keeping every connection open, until {@link #resume}. */
    public void stall() {
        stalled = true;
    }

    /** Forwards again after {@link #stall}. */
    public void resume() {
        synchronized (stallLock) {
            stalled = false;
            stallLock.notifyAll();
        }
    }

    /** Closes each new connection as soon as it is accepted (while {@code drop} is true). */
    public void dropNewConnections(boolean drop) {
        dropNew = drop;
    }

    private void acceptLoop() {
        while (!closed) {
            Socket client;
            try {
                client = listener.accept();
            } catch (IOException e) {
                return; // closed
            }
            accepted.incrementAndGet();
            if (dropNew) {
                closeQuietly(client);
                continue;
            }
            Socket server = new Socket();
            try {
                server.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), targetPort), 5000);
            } catch (IOException e) {
                closeQuietly(client);
                closeQuietly(server);
                continue;
            }
            open.add(client);
            open.add(server);
            pump(client, server, "up");
            pump(server, client, "down");
        }
    }

    private void pump(Socket from, Socket to, String direction) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[16384];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                int n;
                while ((n = in.read(buf)) != -1) {
                    awaitNotStalled();
                    out.write(buf, 0, n);
                    out.flush();
                }
            } catch (IOException | InterruptedException e) {
                // cut, or the other side went away
            } finally {
                closeQuietly(from);
                closeQuietly(to);
                open.remove(from);
                open.remove(to);
            }
        }, "fault-proxy-" + direction + "-" + from.getPort());
        t.setDaemon(true);
        t.start();
    }

    private void awaitNotStalled() throws InterruptedException {
        synchronized (stallLock) {
            while (stalled && !closed) {
                stallLock.wait(100);
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        closeQuietly(listener);
        resume();
        cutAll();
    }

    private static void closeQuietly(java.io.Closeable c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // closing is all we want
        }
    }
}
