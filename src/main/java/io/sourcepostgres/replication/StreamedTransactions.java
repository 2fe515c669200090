package io.sourcepostgres.replication;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Holds the messages of in-progress transactions that the server streams before they commit (protocol
 * 2), so that nothing is emitted before its commit and memory stays bounded however large the
 * transaction: each transaction's messages go to its own spill file on disk, are replayed in order at
 * Stream Commit, and are dropped on Stream Abort (a subtransaction's abort drops only its messages).
 */
public final class StreamedTransactions implements AutoCloseable {
    private static final int BUFFER = 1 << 16;

    private final Path directory;
    private final Map<Integer, Spill> open = new HashMap<>();

    public StreamedTransactions(Path directory) {
        this.directory = directory;
    }

    /** Appends one message of transaction {@code topXid} (sent by subtransaction {@code xid}, maybe the same). */
    public void append(int topXid, int xid, long lsn, byte[] bytes, int offset, int length) {
        Spill spill = open.computeIfAbsent(topXid, this::newSpill);
        try {
            spill.out.writeInt(xid);
            spill.out.writeLong(lsn);
            spill.out.writeInt(length);
            spill.out.write(bytes, offset, length);
            spill.bytes += length + 16;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot spill a streamed transaction to " + spill.file, e);
        }
    }

    /** A subtransaction (or, when {@code subXid == topXid}, the whole transaction) rolled back. */
    public void abort(int topXid, int subXid) {
        Spill spill = open.get(topXid);
        if (spill == null) {
            return;
        }
        if (subXid == topXid || subXid == 0) {
            open.remove(topXid).delete();
        } else {
            spill.abortedSubXids.add(subXid);
        }
    }

    /** Bytes currently spilled, across all open transactions. */
    public long spilledBytes() {
        long total = 0;
        for (Spill s : open.values()) {
            total += s.bytes;
        }
        return total;
    }

    /** Replays the committed transaction's messages in the order they arrived, then forgets them. */
    public void replay(int topXid, MessageSink sink) throws Exception {
        Spill spill = open.remove(topXid);
        if (spill == null) {
            return; // the transaction touched nothing published, or all of it was sent already
        }
        try {
            spill.out.close();
            byte[] buf = new byte[8192];
            try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(spill.file), BUFFER))) {
                while (true) {
                    int xid;
                    try {
                        xid = in.readInt();
                    } catch (EOFException end) {
                        break;
                    }
                    long lsn = in.readLong();
                    int len = in.readInt();
                    if (len > buf.length) {
                        buf = new byte[Math.max(len, buf.length * 2)];
                    }
                    in.readFully(buf, 0, len);
                    if (!spill.abortedSubXids.contains(xid)) {
                        sink.accept(lsn, buf, 0, len);
                    }
                }
            }
        } finally {
            spill.delete();
        }
    }

    @Override
    public void close() {
        for (Spill s : open.values()) {
            s.delete();
        }
        open.clear();
    }

    private Spill newSpill(int xid) {
        try {
            Files.createDirectories(directory);
            Path file = Files.createTempFile(directory, "xid-" + Integer.toUnsignedString(xid) + "-", ".spill");
            return new Spill(file, new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(file), BUFFER)));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a spill file for a streamed transaction in " + directory
                    + "; check free space and permissions of java.io.tmpdir", e);
        }
    }

    /** Receives replayed messages. */
    @FunctionalInterface
    public interface MessageSink {
        void accept(long lsn, byte[] bytes, int offset, int length) throws Exception;
    }

    private static final class Spill {
        final Path file;
        final DataOutputStream out;
        final Set<Integer> abortedSubXids = new HashSet<>();
        long bytes;

        Spill(Path file, DataOutputStream out) {
            this.file = file;
            this.out = out;
        }

        void delete() {
            try {
                out.close();
            } catch (IOException ignored) {
                // deleting anyway
            }
            try {
                Files.deleteIfExists(file);
            } catch (IOException ignored) {
                // a leftover temp file is harmless
            }
        }
    }
}
