package io.sourcepostgres.replication;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.sql.SQLException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The hand-off between the reader thread and the capture: nothing lost or reordered, bounded, and closable. */
class ReceivedMessagesTest {
    private static byte[] numbered(int i, int size) {
        return ByteBuffer.allocate(Math.max(4, size)).putInt(0, i).array();
    }

    @Test
    void messagesCrossTheThreadsInOrderThroughASmallQueueThenTheFailure() throws Exception {
        ReceivedMessages queue = new ReceivedMessages(8, 1000);
        int n = 200_000;
        CompletableFuture<Void> reader = CompletableFuture.runAsync(() -> {
            try {
                for (int i = 0; i < n; i++) {
                    assertThat(queue.put(numbered(i, i % 300))).isTrue();
                }
                queue.fail(new SQLException("end", "08006"));
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        });
        int next = 0;
        try {
            while (true) {
                byte[] m = queue.poll(1_000_000L);
                if (m != null) {
                    assertThat(ByteBuffer.wrap(m).getInt(0)).isEqualTo(next++);
                }
            }
        } catch (SQLException e) {
            assertThat(e.getMessage()).isEqualTo("end");
        }
        assertThat(next).isEqualTo(n);
        reader.get(10, TimeUnit.SECONDS);
    }

    @Test
    void aMessageLargerThanTheByteBoundStillPassesAlone() throws Exception {
        ReceivedMessages queue = new ReceivedMessages(8, 100);
        assertThat(queue.put(new byte[1000])).isTrue();
        assertThat(queue.poll(0)).hasSize(1000);
    }

    @Test
    void closingReleasesAReaderWaitingForRoomAndDropsWhatComesAfter() throws Exception {
        ReceivedMessages queue = new ReceivedMessages(1, 100);
        assertThat(queue.put(new byte[10])).isTrue();
        CompletableFuture<Boolean> blocked = CompletableFuture.supplyAsync(() -> {
            try {
                return queue.put(new byte[10]);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        });
        queue.close();
        assertThat(blocked.get(10, TimeUnit.SECONDS)).isFalse();
        assertThat(queue.put(new byte[10])).isFalse();
    }

    @Test
    void anEmptyQueueWaitsNoLongerThanAsked() throws Exception {
        ReceivedMessages queue = new ReceivedMessages(8, 100);
        assertThat(queue.poll(0)).isNull();
        assertThat(queue.poll(1_000_000L)).isNull();
    }
}
