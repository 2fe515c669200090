package io.sourcepostgres.replication;

import java.sql.SQLException;
import java.util.ArrayDeque;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The hand-off from the thread that reads the replication connection to the capture thread: messages in the
 * order they arrived, then, once the reader stops, the failure that stopped it. Bounded by count and by bytes
 * (a single message larger than the byte bound is still taken when the queue is empty), so a capture slower
 * than the server pushes back on the socket as it did when it read the socket itself. A full queue lets the reader
 * go on once half of it is free, so that a capture slower than the server does not wake the reader per message.
 */
final class ReceivedMessages {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition notEmpty = lock.newCondition();
    private final Condition notFull = lock.newCondition();
    private final ArrayDeque<byte[]> messages = new ArrayDeque<>();
    private final int maxCount;
    private final long maxBytes;
    private long bytes;
    /** Set once by the reader: taken after every message before it. */
    private SQLException failure;
    /** Set by the capture when it stops taking: the reader drops what it reads from then on. */
    private boolean closed;
    /** The reader waits for room: it is woken once half the queue is free, not for every message taken. */
    private boolean readerWaiting;

    ReceivedMessages(int maxCount, long maxBytes) {
        this.maxCount = maxCount;
        this.maxBytes = maxBytes;
    }

    /**
     * Adds {@code message} after those already waiting, waiting while the queue is full.
     *
     * @return false when the capture has stopped taking (the message is dropped)
     */
    boolean put(byte[] message) throws InterruptedException {
        lock.lockInterruptibly();
        try {
            while (!closed && !messages.isEmpty()
                    && (messages.size() >= maxCount || bytes + message.length > maxBytes)) {
                readerWaiting = true;
                try {
                    notFull.await();
                } finally {
                    readerWaiting = false;
                }
            }
            if (closed) {
                return false;
            }
            messages.addLast(message);
            bytes += message.length;
            notEmpty.signal();
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** The reader has stopped with {@code e}: the capture gets it after the messages already waiting. */
    void fail(SQLException e) {
        lock.lock();
        try {
            if (failure == null) {
                failure = e;
            }
            notEmpty.signal();
        } finally {
            lock.unlock();
        }
    }

    /**
     * The next message, waiting up to {@code timeoutNanos} for one; null if none came.
     *
     * @throws SQLException the reader's failure, once every message before it has been taken
     */
    byte[] poll(long timeoutNanos) throws SQLException, InterruptedException {
        lock.lock();
        try {
            long wait = timeoutNanos;
            while (messages.isEmpty()) {
                if (failure != null) {
                    throw failure;
                }
                if (wait <= 0) {
                    return null;
                }
                wait = notEmpty.awaitNanos(wait);
            }
            byte[] m = messages.pollFirst();
            bytes -= m.length;
            // Only once half of it is free: a reader woken for every message taken would cost a wake-up each.
            if (readerWaiting && messages.size() <= maxCount / 2 && bytes <= maxBytes / 2) {
                notFull.signal();
            }
            return m;
        } finally {
            lock.unlock();
        }
    }

    /** The capture takes nothing more: a reader waiting for room stops waiting, and later messages are dropped. */
    void close() {
        lock.lock();
        try {
            closed = true;
            messages.clear();
            bytes = 0;
            notFull.signalAll();
        } finally {
            lock.unlock();
        }
    }

    boolean isClosed() {
        lock.lock();
        try {
            return closed;
        } finally {
            lock.unlock();
        }
    }
}
