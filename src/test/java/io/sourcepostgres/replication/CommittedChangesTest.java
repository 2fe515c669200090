package io.sourcepostgres.replication;

import static org.assertj.core.api.Assertions.assertThat;

import io.sourcepostgres.airbyte.LogLevel;
import io.sourcepostgres.airbyte.LogSink;
import io.sourcepostgres.pgoutput.CapturedMessage;
import io.sourcepostgres.pgoutput.PgOutputMessage;
import io.sourcepostgres.pgoutput.PgOutputMessage.Begin;
import io.sourcepostgres.pgoutput.PgOutputMessage.Commit;
import io.sourcepostgres.pgoutput.PgOutputMessage.Insert;
import io.sourcepostgres.pgoutput.PgOutputMessage.LogicalMessage;
import io.sourcepostgres.pgoutput.PgOutputMessage.StreamCommit;
import io.sourcepostgres.pgoutput.PgOutputMessage.StreamStart;
import io.sourcepostgres.pgoutput.PgOutputDecoder;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the capture receives from a real protocol-2 stream (the {@code streaming-proto2} fixture, bytes a
 * PostgreSQL 17 server sent: a streamed transaction that commits, one whose savepoint is rolled back, one
 * rolled back whole): whole transactions in commit order, each Begin … Commit, and nothing of the stream's
 * segments, relations or types.
 */
class CommittedChangesTest {
    private static final LogSink QUIET = new LogSink() {
        @Override
        public boolean isEnabled(LogLevel level) {
            return false;
        }

        @Override
        public void log(LogLevel level, String message, Throwable error) { }
    };

    @TempDir
    Path spill;

    /**
     * A message as the receiver got it, with the subtransaction named just before it and, for an insert, its
     * id and label read during the call (a tuple's values are only valid until the receiver returns).
     */
    record Received(PgOutputMessage message, long lsn, int writtenBy, String id, String label) {}

    @Test
    void streamedTransactionsArriveWholeAtTheirCommitAndAbortedOnesNever() throws Exception {
        List<CapturedMessage> fixture = CapturedMessage.loadFixture("streaming-proto2");
        List<Received> got = drain(fixture);

        assertThat(got).extracting(r -> r.message().getClass().getSimpleName())
                .as("only what a transaction carries reaches the capture")
                .doesNotContain("StreamStart", "StreamStop", "StreamCommit", "StreamAbort", "Relation", "Type");
        assertThat(got.get(0).message()).as("a non-transactional message is passed on at once")
                .isInstanceOfSatisfying(LogicalMessage.class, m -> assertThat(m.prefix()).isEqualTo("progress"));

        List<List<Received>> transactions = transactions(got.subList(1, got.size()));
        assertThat(transactions).as("two committed; the one rolled back whole never appears").hasSize(2);

        List<StreamCommit> commits = decoded(fixture).stream().filter(StreamCommit.class::isInstance)
                .map(StreamCommit.class::cast).toList();
        for (int t = 0; t < 2; t++) {
            List<Received> tx = transactions.get(t);
            Begin begin = (Begin) tx.get(0).message();
            Commit commit = (Commit) tx.get(tx.size() - 1).message();
            assertThat(begin.xid()).isEqualTo(commits.get(t).xid());
            assertThat(begin.finalLsn()).isEqualTo(commits.get(t).commitLsn());
            assertThat(commit.endLsn()).as("the position after the commit").isEqualTo(commits.get(t).endLsn());
            assertThat(tx.get(tx.size() - 1).lsn()).isEqualTo(commits.get(t).endLsn());
            assertThat(commit.commitTimeMicros()).isEqualTo(commits.get(t).commitTimeMicros());
        }

        List<Received> first = transactions.get(0);
        assertThat(first.subList(1, 5)).extracting(r -> r.message().getClass().getSimpleName())
                .containsExactly("Update", "Delete", "Truncate", "LogicalMessage");
        assertThat(labels(first)).hasSize(500).allMatch(l -> l.startsWith("r"));
        assertThat(ids(first)).as("in the order they were written").isSorted().hasSize(500);

        List<Received> second = transactions.get(1);
        int top = ((Begin) second.get(0).message()).xid();
        assertThat(labels(second)).as("the rolled-back savepoint's rows are gone, the rest kept in order")
                .doesNotContain("undone").containsOnly("kept", "after rollback").hasSize(201).endsWith("after rollback");
        Received afterRollback = second.get(second.size() - 2);
        assertThat(afterRollback.writtenBy()).as("each change names the subtransaction that wrote it")
                .isNotIn(0, top);
        assertThat(second.get(1).writtenBy()).isEqualTo(top);
    }

    @Test
    void aSegmentStillOpenIsNotATransactionBoundary() throws Exception {
        List<CapturedMessage> fixture = CapturedMessage.loadFixture("streaming-proto2");
        List<PgOutputMessage> decoded = decoded(fixture);
        int start = 0;
        while (!(decoded.get(start) instanceof StreamStart)) {
            start++;
        }
        FixtureSource source = new FixtureSource(fixture);
        CommittedChanges changes = new CommittedChanges(source, new StreamedTransactions(spill), relations());
        List<PgOutputMessage> got = new ArrayList<>();
        for (int i = 0; i <= start; i++) {
            assertThat(changes.insideSegment()).isFalse();
            changes.poll((m, lsn) -> got.add(m));
        }
        assertThat(changes.insideSegment()).as("after Stream Start").isTrue();
        changes.poll((m, lsn) -> got.add(m));
        assertThat(got).as("the segment's messages wait for their commit").hasSize(1);
    }

    private List<Received> drain(List<CapturedMessage> fixture) throws Exception {
        List<Received> got = new ArrayList<>();
        int[] writer = {0};
        CommittedChanges changes = new CommittedChanges(new FixtureSource(fixture), new StreamedTransactions(spill),
                relations());
        CommittedChanges.Receiver receiver = new CommittedChanges.Receiver() {
            @Override
            public void message(PgOutputMessage message, long lsn) {
                boolean insert = message instanceof Insert;
                got.add(new Received(message, lsn, writer[0], insert ? ((Insert) message).newTuple().text(0) : null,
                        insert ? ((Insert) message).newTuple().text(2) : null));
                writer[0] = 0;
            }

            @Override
            public void writtenBy(int xid) {
                writer[0] = xid;
            }
        };
        while (changes.poll(receiver)) {
            // every message the server sent
        }
        assertThat(changes.insideSegment()).isFalse();
        return got;
    }

    private static RelationCache relations() {
        return new RelationCache(relation -> null, oid -> null, QUIET);
    }

    private static List<List<Received>> transactions(List<Received> messages) {
        List<List<Received>> out = new ArrayList<>();
        List<Received> current = null;
        for (Received r : messages) {
            if (r.message() instanceof Begin) {
                assertThat(current).as("Begin inside a transaction").isNull();
                current = new ArrayList<>();
            }
            assertThat(current).as("%s outside a transaction", r.message()).isNotNull();
            current.add(r);
            if (r.message() instanceof Commit) {
                out.add(current);
                current = null;
            }
        }
        assertThat(current).as("a transaction left open").isNull();
        return out;
    }

    private static List<String> labels(List<Received> tx) {
        return tx.stream().filter(r -> r.message() instanceof Insert).map(Received::label).toList();
    }

    private static List<Integer> ids(List<Received> tx) {
        return tx.stream().filter(r -> r.message() instanceof Insert)
                .map(r -> Integer.parseInt(r.id())).toList();
    }

    private static List<PgOutputMessage> decoded(List<CapturedMessage> fixture) {
        PgOutputDecoder decoder = new PgOutputDecoder();
        return fixture.stream().map(m -> decoder.decode(m.bytes(), 0, m.bytes().length)).toList();
    }

    /** The fixture's messages in order, as the replication connection would hand them over. */
    private static final class FixtureSource implements MessageSource {
        private final List<CapturedMessage> messages;
        private int next;
        private long lsn;

        FixtureSource(List<CapturedMessage> messages) {
            this.messages = messages;
        }

        @Override
        public ByteBuffer poll() {
            if (next == messages.size()) {
                return null;
            }
            CapturedMessage m = messages.get(next++);
            lsn = m.lsn();
            return ByteBuffer.wrap(m.bytes().clone());
        }

        @Override
        public long lastReceivedLsn() {
            return lsn;
        }

        @Override
        public void sendStatus() { }
    }
}
