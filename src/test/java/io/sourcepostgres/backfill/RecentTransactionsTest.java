package io.sourcepostgres.backfill;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RecentTransactionsTest {

    @Test
    void nothingDeliveredRacesNothing() {
        RecentTransactions recent = new RecentTransactions();
        assertThat(recent.racedBefore(recent.mark(), ChunkSnapshot.parse("100:105:101,103"))).isFalse();
    }

    @Test
    void aDeliveredTransactionTheSnapshotSawRunningRaced() {
        RecentTransactions recent = new RecentTransactions();
        recent.committed(103);
        assertThat(recent.racedBefore(recent.mark(), ChunkSnapshot.parse("100:105:101,103"))).isTrue();
    }

    @Test
    void aDeliveredTransactionAtOrPastXmaxRaced() {
        // The snapshot's xmax is one past the last transaction whose end was recorded: a transaction whose
        // commit record was already written (and delivered) but not yet recorded is at or past it, unlisted.
        RecentTransactions recent = new RecentTransactions();
        recent.committed(99);
        recent.committed(105);
        assertThat(recent.racedBefore(recent.mark(), ChunkSnapshot.parse("100:105:101"))).isTrue();
        assertThat(recent.racedBefore(recent.mark(), ChunkSnapshot.parse("100:106:101"))).isFalse();
    }

    @Test
    void transactionsDeliveredAfterTheMarkAreLeftToTheLoggedChanges() {
        RecentTransactions recent = new RecentTransactions();
        recent.committed(90);
        RecentTransactions.Mark mark = recent.mark();
        recent.committed(103);
        recent.committed(110);
        assertThat(recent.racedBefore(mark, ChunkSnapshot.parse("100:105:101,103"))).isFalse();
    }

    @Test
    void transactionsDeliveredOutOfIdOrderKeepTheLatestId() {
        RecentTransactions recent = new RecentTransactions();
        recent.committed(120);
        recent.committed(110); // an older transaction committing later
        assertThat(recent.racedBefore(recent.mark(), ChunkSnapshot.parse("100:115:"))).isTrue();
    }

    @Test
    void idsCompareAcrossTheirWraparound() {
        RecentTransactions recent = new RecentTransactions();
        recent.committed(0xFFFF_FFF0);
        recent.committed(5); // after the 32-bit wraparound: later than 0xFFFFFFF0
        long epoch1 = 1L << 32;
        assertThat(recent.racedBefore(recent.mark(), new ChunkSnapshot(epoch1 + 3, epoch1 + 5, java.util.List.of())))
                .isTrue();
        assertThat(recent.racedBefore(recent.mark(), new ChunkSnapshot(epoch1 + 3, epoch1 + 6, java.util.List.of())))
                .isFalse();
    }

    @Test
    void onlyTheMostRecentTransactionsAreRemembered() {
        RecentTransactions recent = new RecentTransactions();
        recent.committed(7);
        for (int xid = 1000; xid < 1000 + 70_000; xid++) {
            recent.committed(xid);
        }
        // 7 fell out of the window; listing it as running is not a race any more (it ended long ago).
        assertThat(recent.racedBefore(recent.mark(), ChunkSnapshot.parse("5:80000:7"))).isFalse();
    }
}
