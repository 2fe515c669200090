package io.sourcepostgres.pgoutput;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sourcepostgres.pgoutput.PgOutputMessage.Begin;
import io.sourcepostgres.pgoutput.PgOutputMessage.Column;
import io.sourcepostgres.pgoutput.PgOutputMessage.Commit;
import io.sourcepostgres.pgoutput.PgOutputMessage.Delete;
import io.sourcepostgres.pgoutput.PgOutputMessage.Insert;
import io.sourcepostgres.pgoutput.PgOutputMessage.LogicalMessage;
import io.sourcepostgres.pgoutput.PgOutputMessage.Origin;
import io.sourcepostgres.pgoutput.PgOutputMessage.Relation;
import io.sourcepostgres.pgoutput.PgOutputMessage.StreamAbort;
import io.sourcepostgres.pgoutput.PgOutputMessage.StreamCommit;
import io.sourcepostgres.pgoutput.PgOutputMessage.StreamStart;
import io.sourcepostgres.pgoutput.PgOutputMessage.StreamStop;
import io.sourcepostgres.pgoutput.PgOutputMessage.Truncate;
import io.sourcepostgres.pgoutput.PgOutputMessage.Type;
import io.sourcepostgres.pgoutput.PgOutputMessage.Update;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Decodes bytes captured from PostgreSQL 17 (see the headers of {@code src/test/resources/pgoutput/*.hex}
 * and {@link PgOutputFixturesIT}, which regenerates them and checks them against the live server).
 * Positions and xids are checked against the {@code lsn} and {@code xid} columns the server printed
 * next to each message, times against what the SQL chose or a plausible window.
 */
class PgOutputDecoderTest {
    private static final HexFormat HEX = HexFormat.of();
    /** The fixtures were captured after this; a byte-order mistake in a timestamp lands far outside. */
    private static final Instant CAPTURED_AFTER = Instant.parse("2024-01-01T00:00:00Z");

    private final Fixture changes = new Fixture("changes-proto1");

    // ---- transactions ---------------------------------------------------------------------------------

    @Test
    void beginAndCommitCarryTheServersPositionsXidsAndTimes() {
        List<Integer> begins = changes.indexesOf(Begin.class);
        List<Integer> commits = changes.indexesOf(Commit.class);
        assertThat(begins).hasSize(11).hasSameSizeAs(commits);
        long previousEnd = 0;
        for (int t = 0; t < begins.size(); t++) {
            Begin begin = changes.get(begins.get(t), Begin.class);
            Commit commit = changes.get(commits.get(t), Commit.class);
            assertThat(begins.get(t)).isLessThan(commits.get(t));
            assertThat(Integer.toUnsignedLong(begin.xid())).isEqualTo(changes.line(begins.get(t)).xid());
            assertThat(commit.flags()).isZero();
            assertThat(commit.commitLsn()).isEqualTo(begin.finalLsn());
            assertThat(commit.endLsn()).isEqualTo(changes.line(commits.get(t)).lsn()).isGreaterThan(commit.commitLsn());
            assertThat(commit.commitLsn()).isGreaterThan(previousEnd);
            assertThat(commit.commitTimeMicros()).isEqualTo(begin.commitTimeMicros());
            previousEnd = commit.endLsn();
        }
        // every transaction but the last (whose time the origin set) committed while the fixture was captured
        for (int t = 0; t < begins.size() - 1; t++) {
            Instant at = PgTimestamp.toInstant(changes.get(begins.get(t), Begin.class).commitTimeMicros());
            assertThat(at).isAfter(CAPTURED_AFTER).isBefore(Instant.now());
        }
    }

    @Test
    void originCarriesTheOriginNameAndLsnAndItsTransactionTheOriginsCommitTime() {
        int at = changes.indexesOf(Origin.class).get(0);
        assertThat(changes.get(at - 1)).isInstanceOf(Begin.class);
        assertThat(changes.get(at)).isEqualTo(new Origin(Lsn.parse("0/ABCDEF0"), "pgoutput_fixture_origin"));
        // pg_replication_origin_xact_setup('0/ABCDEF0', '1999-12-31 23:59:58.123456+00'): before the PostgreSQL epoch
        Begin begin = changes.get(at - 1, Begin.class);
        assertThat(begin.commitTimeMicros()).isEqualTo(-1_876_544L);
        assertThat(PgTimestamp.toRfc3339Utc(begin.commitTimeMicros())).isEqualTo("1999-12-31T23:59:58.123456Z");
        Insert insert = changes.get(at + 1, Insert.class);
        assertThat(insert.relationId()).isEqualTo(changes.relation("no_identity").relationId());
        assertThat(texts(insert.newTuple())).containsExactly("2", "from elsewhere");
        assertThat(changes.get(at + 2, Commit.class).commitTimeMicros()).isEqualTo(-1_876_544L);
    }

    // ---- schema ---------------------------------------------------------------------------------------

    @Test
    void relationDescribesNamespaceColumnsKeyFlagsTypesTypmodsAndDefaultIdentity() {
        Relation kinds = changes.relation("kinds");
        int mood = changes.type("mood").typeOid();
        int positive = changes.type("int4").typeOid();
        assertThat(kinds).isEqualTo(new Relation(0, kinds.relationId(), "public", "kinds", 'd', List.of(
                new Column(1, "id", 23, -1),
                new Column(0, "feeling", mood, -1),
                new Column(0, "amount", positive, -1),
                new Column(0, "note", 25, -1),
                new Column(0, "big", 25, -1),
                new Column(0, "price", 1700, (10 << 16 | 2) + 4), // numeric(10,2)
                new Column(0, "code", 1043, 20 + 4)))); // varchar(20)
        assertThat(Integer.toUnsignedLong(kinds.relationId())).isGreaterThanOrEqualTo(16384);
        assertThat(kinds.columns().get(0).isKey()).isTrue();
        assertThat(kinds.columns().get(1).isKey()).isFalse();
    }

    @Test
    void relationReportsEveryReplicaIdentityAndItsKeyColumns() {
        assertThat(changes.relation("full_identity").replicaIdentity()).isEqualTo('f');
        assertThat(changes.relation("full_identity").columns())
                .containsExactly(new Column(1, "id", 23, -1), new Column(1, "v", 25, -1));
        assertThat(changes.relation("index_identity").replicaIdentity()).isEqualTo('i');
        assertThat(changes.relation("index_identity").columns())
                .containsExactly(new Column(0, "id", 23, -1), new Column(1, "code", 25, -1), new Column(0, "v", 25, -1));
        assertThat(changes.relation("no_identity").replicaIdentity()).isEqualTo('n');
        assertThat(changes.relation("no_identity").columns())
                .containsExactly(new Column(0, "id", 23, -1), new Column(0, "v", 25, -1));
    }

    @Test
    void namesAreUtf8AndKeepQuotesAndCase() {
        Relation weird = changes.relation("Weird \"Name\"");
        assertThat(weird.namespace()).isEqualTo("Sch");
        assertThat(weird.columns()).containsExactly(new Column(1, "größe", 23, -1), new Column(0, "select", 25, -1));
        Insert insert = changes.changesTo(weird, Insert.class).get(0);
        assertThat(texts(insert.newTuple())).containsExactly("1", "sélect");
    }

    @Test
    void typeMessagesDescribeUserTypesBeforeTheRelationThatUsesThem() {
        int relationAt = changes.messages.indexOf(changes.relation("kinds"));
        Type mood = changes.get(relationAt - 2, Type.class);
        Type positive = changes.get(relationAt - 1, Type.class);
        assertThat(mood).isEqualTo(new Type(0, mood.typeOid(), "public", "mood"));
        // a domain is announced under its own oid but with its base type's name; pg_catalog is sent as ""
        assertThat(positive).isEqualTo(new Type(0, positive.typeOid(), "", "int4"));
        assertThat(Integer.toUnsignedLong(mood.typeOid())).isGreaterThanOrEqualTo(16384);
        assertThat(Integer.toUnsignedLong(positive.typeOid())).isGreaterThanOrEqualTo(16384);
        assertThat(positive.typeOid()).isNotEqualTo(mood.typeOid());
    }

    // ---- row changes ----------------------------------------------------------------------------------

    @Test
    void insertCarriesTextAndNullValuesAsSlicesOfTheReceivedBytes() {
        Relation kinds = changes.relation("kinds");
        int at = changes.messages.indexOf(changes.changesTo(kinds, Insert.class).get(0));
        Insert insert = changes.get(at, Insert.class);
        assertThat(insert.xid()).isZero();
        TupleData row = insert.newTuple();
        assertThat(kinds(row)).isEqualTo("ttttntt");
        assertThat(texts(row)).containsExactly("1", "happy", "7", "héllo ✓", null, "12.30", "abc");
        assertThat(row.isNull(4)).isTrue();
        assertThat(row.length(4)).isZero();
        // no copy: the value bytes are read where they arrived
        byte[] received = changes.line(at).bytes();
        assertThat(row.buffer()).isSameAs(received);
        assertThat(Arrays.copyOfRange(received, row.offset(3), row.offset(3) + row.length(3))).isEqualTo("héllo ✓".getBytes(UTF_8));
    }

    @Test
    void updateThatLeavesAToastedColumnAloneMarksItUnchanged() {
        Relation kinds = changes.relation("kinds");
        Update update = changes.changesTo(kinds, Update.class).get(0);
        assertThat(update.xid()).isZero();
        assertThat(update.oldKind()).isEqualTo('\0');
        assertThat(update.oldTuple()).isNull();
        assertThat(kinds(update.newTuple())).isEqualTo("ttttutt");
        assertThat(texts(update.newTuple())).containsExactly("2", "ok", "5", "changed", null, "1.50", "x");
        assertThat(update.newTuple().isUnchangedToast(4)).isTrue();
        assertThat(update.newTuple().length(4)).isZero();
    }

    @Test
    void updateOfTheKeySendsTheOldKeyWithOtherColumnsNull() {
        Update update = changes.changesTo(changes.relation("kinds"), Update.class).get(1);
        assertThat(update.oldKind()).isEqualTo('K');
        assertThat(kinds(update.oldTuple())).isEqualTo("tnnnnnn");
        assertThat(texts(update.oldTuple())).containsExactly("1", null, null, null, null, null, null);
        assertThat(texts(update.newTuple())).containsExactly("3", "happy", "7", "héllo ✓", null, "12.30", "abc");

        List<Update> byIndex = changes.changesTo(changes.relation("index_identity"), Update.class);
        assertThat(byIndex).hasSize(2);
        assertThat(byIndex.get(0).oldTuple()).as("the index key did not change").isNull();
        assertThat(texts(byIndex.get(0).newTuple())).containsExactly("1", "k1", "w");
        assertThat(byIndex.get(1).oldKind()).isEqualTo('K');
        assertThat(texts(byIndex.get(1).oldTuple())).containsExactly(null, "k1", null);
        assertThat(texts(byIndex.get(1).newTuple())).containsExactly("1", "k2", "w");
    }

    @Test
    void deleteSendsTheKeyUnderDefaultAndIndexIdentity() {
        Delete kinds = changes.changesTo(changes.relation("kinds"), Delete.class).get(0);
        assertThat(kinds.xid()).isZero();
        assertThat(kinds.oldKind()).isEqualTo('K');
        assertThat(texts(kinds.oldTuple())).containsExactly("3", null, null, null, null, null, null);
        Delete index = changes.changesTo(changes.relation("index_identity"), Delete.class).get(0);
        assertThat(index.oldKind()).isEqualTo('K');
        assertThat(texts(index.oldTuple())).containsExactly(null, "k2", null);
    }

    @Test
    void replicaIdentityFullSendsTheWholeOldRow() {
        Relation full = changes.relation("full_identity");
        assertThat(texts(changes.changesTo(full, Insert.class).get(0).newTuple())).containsExactly("1", "a");
        Update update = changes.changesTo(full, Update.class).get(0);
        assertThat(update.oldKind()).isEqualTo('O');
        assertThat(texts(update.oldTuple())).containsExactly("1", "a");
        assertThat(texts(update.newTuple())).containsExactly("1", "b");
        Delete delete = changes.changesTo(full, Delete.class).get(0);
        assertThat(delete.oldKind()).isEqualTo('O');
        assertThat(texts(delete.oldTuple())).containsExactly("1", "b");
    }

    @Test
    void truncateCarriesItsOptionsAndEveryRelationIncludingCascadedOnes() {
        List<Truncate> truncates = changes.all(Truncate.class);
        assertThat(truncates).hasSize(2);
        int serial = changes.relation("truncate_serial").relationId();

        Truncate restart = truncates.get(0); // TRUNCATE truncate_serial RESTART IDENTITY
        assertThat(restart.xid()).isZero();
        assertThat(restart.options()).isEqualTo(Truncate.RESTART_IDENTITY);
        assertThat(restart.restartIdentity()).isTrue();
        assertThat(restart.cascade()).isFalse();
        assertThat(restart.relationIds()).containsExactly(serial);

        Truncate cascade = truncates.get(1); // TRUNCATE truncate_parent, truncate_serial CASCADE
        assertThat(cascade.options()).isEqualTo(Truncate.CASCADE);
        assertThat(cascade.cascade()).isTrue();
        assertThat(cascade.restartIdentity()).isFalse();
        assertThat(cascade.relationIds()).containsExactly(changes.relation("truncate_parent").relationId(), serial,
                changes.relation("truncate_child").relationId());
    }

    // ---- logical messages and binary tuples (PostgreSQL 14+) -------------------------------------------

    @Test
    void logicalMessagesInAndOutsideTransactions() {
        Fixture messages = new Fixture("messages-proto1");
        int plainAt = messages.indexesOf(LogicalMessage.class).get(0);
        LogicalMessage plain = messages.get(plainAt, LogicalMessage.class);
        assertThat(plainAt).as("non-transactional: sent on its own, before any Begin").isZero();
        assertThat(plain.xid()).isZero();
        assertThat(plain.transactional()).isFalse();
        assertThat(plain.prefix()).isEqualTo("heartbeat");
        assertThat(new String(plain.content(), UTF_8)).isEqualTo("plain text ✓");
        assertThat(plain.lsn()).isEqualTo(messages.line(plainAt).lsn());

        int txAt = messages.indexesOf(LogicalMessage.class).get(1);
        LogicalMessage tx = messages.get(txAt, LogicalMessage.class);
        assertThat(messages.get(txAt - 1)).isInstanceOf(Insert.class);
        assertThat(messages.get(txAt + 1)).isInstanceOf(Commit.class);
        assertThat(tx.xid()).isZero();
        assertThat(tx.transactional()).isTrue();
        assertThat(tx.prefix()).isEqualTo("audit");
        assertThat(tx.content()).containsExactly(0x00, 0xff, 0x10);
        assertThat(tx.lsn()).isEqualTo(messages.line(txAt).lsn());
        // the message's LSN is where its record ends: here, where the commit record begins
        assertThat(tx.lsn()).isEqualTo(messages.get(txAt + 1, Commit.class).commitLsn());
    }

    @Test
    void binaryTuplesCarryEachTypesSendFormat() {
        Fixture binary = new Fixture("binary-proto1");
        Relation typed = binary.relation("typed");
        assertThat(typed.columns()).extracting(Column::typeOid).containsExactly(23, 20, 701, 17, 25, 1184, 1000, 25);
        TupleData row = binary.changesTo(typed, Insert.class).get(0).newTuple();
        assertThat(kinds(row)).isEqualTo("bbbbbbbn");
        ByteBuffer values = ByteBuffer.wrap(row.buffer());
        assertThat(row.length(0)).isEqualTo(4);
        assertThat(values.getInt(row.offset(0))).isEqualTo(1);
        assertThat(row.length(1)).isEqualTo(8);
        assertThat(values.getLong(row.offset(1))).isEqualTo(9007199254740993L);
        assertThat(values.getDouble(row.offset(2))).isEqualTo(0.1);
        assertThat(hex(row, 3)).isEqualTo("deadbeef");
        assertThat(row.text(4)).isEqualTo("naïve");
        assertThat(PgTimestamp.toRfc3339Utc(values.getLong(row.offset(5)))).isEqualTo("2024-02-29T12:34:56.789012Z");
        // array_send: 1 dimension, no nulls, element type bool (16), 2 elements from 1, then (length, value) pairs
        assertThat(hex(row, 6)).isEqualTo("00000001" + "00000000" + "00000010" + "00000002" + "00000001"
                + "00000001" + "01" + "00000001" + "00");
        assertThat(row.isNull(7)).isTrue();
        assertThat(row.text(7)).isNull();
    }

    // ---- streamed transactions (protocol 2) ------------------------------------------------------------

    @Test
    void streamedTransactionSegmentsCarryTheXidAndCommitAtTheEnd() {
        Fixture streaming = new Fixture("streaming-proto2");
        LogicalMessage outside = streaming.get(0, LogicalMessage.class);
        assertThat(outside.transactional()).isFalse();
        assertThat(outside.xid()).as("non-transactional messages are never inside a stream").isZero();
        assertThat(outside.prefix()).isEqualTo("progress");

        StreamStart start = streaming.get(1, StreamStart.class);
        int xid = start.xid();
        assertThat(Integer.toUnsignedLong(xid)).isEqualTo(streaming.line(1).xid());
        assertThat(start.firstSegment()).isTrue();
        assertThat(streaming.get(2)).isEqualTo(new Type(xid, streaming.get(2, Type.class).typeOid(), "public", "size"));
        Relation items = streaming.get(3, Relation.class);
        assertThat(items.xid()).isEqualTo(xid);
        assertThat(items.name()).isEqualTo("items");
        assertThat(items.columns().get(1).typeOid()).isEqualTo(streaming.get(2, Type.class).typeOid());

        Update update = streaming.get(4, Update.class);
        assertThat(update.xid()).isEqualTo(xid);
        assertThat(texts(update.newTuple())).containsExactly("0", "small", "updated");
        Delete delete = streaming.get(5, Delete.class);
        assertThat(delete.xid()).isEqualTo(xid);
        assertThat(texts(delete.oldTuple())).containsExactly("0", null, null);
        Relation scratch = streaming.get(6, Relation.class);
        assertThat(scratch.xid()).isEqualTo(xid);
        Truncate truncate = streaming.get(7, Truncate.class);
        assertThat(truncate.xid()).isEqualTo(xid);
        assertThat(truncate.relationIds()).containsExactly(scratch.relationId());
        LogicalMessage marker = streaming.get(8, LogicalMessage.class);
        assertThat(marker.xid()).isEqualTo(xid);
        assertThat(marker.transactional()).isTrue();
        assertThat(new String(marker.content(), UTF_8)).isEqualTo("inside the stream");
        assertThat(marker.lsn()).isEqualTo(streaming.line(8).lsn());

        // 500 inserts, split over segments, then the commit
        int commitAt = streaming.indexesOf(StreamCommit.class).get(0);
        List<String> ids = new ArrayList<>();
        int segments = 1;
        for (int i = 9; i < commitAt; i++) {
            PgOutputMessage m = streaming.get(i);
            if (m instanceof Insert insert) {
                assertThat(insert.xid()).isEqualTo(xid);
                assertThat(insert.relationId()).isEqualTo(items.relationId());
                ids.add(insert.newTuple().text(0));
            } else if (m instanceof StreamStart next) {
                assertThat(next).isEqualTo(new StreamStart(xid, false));
                segments++;
            } else {
                assertThat(m).isInstanceOf(StreamStop.class);
            }
        }
        assertThat(segments).isGreaterThan(1);
        assertThat(ids).hasSize(500).startsWith("1", "2").endsWith("499", "500");
        StreamCommit commit = streaming.get(commitAt, StreamCommit.class);
        assertThat(streaming.get(commitAt - 1)).isInstanceOf(StreamStop.class);
        assertThat(commit.xid()).isEqualTo(xid);
        assertThat(commit.flags()).isZero();
        assertThat(commit.endLsn()).isEqualTo(streaming.line(commitAt).lsn()).isGreaterThan(commit.commitLsn());
        assertThat(commit.commitLsn()).isGreaterThan(marker.lsn());
        assertThat(PgTimestamp.toInstant(commit.commitTimeMicros())).isAfter(CAPTURED_AFTER).isBefore(Instant.now());
    }

    @Test
    void aRolledBackSubtransactionIsAbortedOnItsOwnAndItsChangesCarryItsXid() {
        Fixture streaming = new Fixture("streaming-proto2");
        int abortAt = streaming.indexesOf(StreamAbort.class).get(0);
        StreamAbort abort = streaming.get(abortAt, StreamAbort.class);
        assertThat(abort.wholeTransaction()).isFalse();
        assertThat(Integer.toUnsignedLong(abort.subXid())).isEqualTo(streaming.line(abortAt).xid());
        assertThat(abort.abortLsn()).as("protocol 2 sends no abort LSN").isZero();
        assertThat(abort.abortTimeMicros()).isZero();
        assertThat(streaming.get(abortAt - 1)).as("sent between segments").isInstanceOf(StreamStop.class);

        int top = abort.xid();
        int startAt = streaming.messages.indexOf(new StreamStart(top, true));
        assertThat(startAt).isPositive().isLessThan(abortAt);
        for (int i = startAt; i < abortAt; i++) {
            if (streaming.get(i) instanceof Insert insert) {
                String label = insert.newTuple().text(2);
                assertThat(label).isIn("kept", "undone");
                assertThat(insert.xid()).as("xid of insert labelled %s", label).isEqualTo(label.equals("kept") ? top : abort.subXid());
            }
        }
        // after ROLLBACK TO SAVEPOINT the savepoint is a new subtransaction: its insert carries a third xid
        Insert after = streaming.changesTo(streaming.relation("items"), Insert.class).stream()
                .filter(i -> "after rollback".equals(i.newTuple().text(2))).findFirst().orElseThrow();
        assertThat(after.xid()).isNotIn(0, top, abort.subXid());
        int afterAt = streaming.messages.indexOf(after);
        assertThat(streaming.get(afterAt + 1)).isInstanceOf(StreamStop.class);
        assertThat(streaming.get(afterAt + 2, StreamCommit.class).xid()).isEqualTo(top);
    }

    @Test
    void aRolledBackStreamedTransactionIsAbortedWhole() {
        Fixture streaming = new Fixture("streaming-proto2");
        int last = streaming.messages.size() - 1;
        StreamAbort abort = streaming.get(last, StreamAbort.class);
        assertThat(abort.wholeTransaction()).isTrue();
        assertThat(Integer.toUnsignedLong(abort.xid())).isEqualTo(streaming.line(last).xid());
        assertThat(streaming.changesTo(streaming.relation("items"), Insert.class))
                .filteredOn(i -> i.xid() == abort.xid()).isNotEmpty()
                .allSatisfy(i -> assertThat(i.newTuple().text(2)).isEqualTo("discarded"));
    }

    @Test
    void protocol4StreamAbortCarriesTheAbortLsnAndTime() {
        Fixture parallel = new Fixture("stream-abort-proto4");
        List<Integer> aborts = parallel.indexesOf(StreamAbort.class);
        assertThat(aborts).hasSize(2);
        StreamAbort sub = parallel.get(aborts.get(0), StreamAbort.class);
        StreamAbort whole = parallel.get(aborts.get(1), StreamAbort.class);
        StreamCommit commit = parallel.all(StreamCommit.class).get(0);
        assertThat(sub.wholeTransaction()).isFalse();
        assertThat(sub.xid()).isEqualTo(commit.xid());
        assertThat(whole.wholeTransaction()).isTrue();
        for (int at : aborts) {
            StreamAbort abort = parallel.get(at, StreamAbort.class);
            assertThat(abort.abortLsn()).isEqualTo(parallel.line(at).lsn());
            assertThat(Integer.toUnsignedLong(abort.subXid())).isEqualTo(parallel.line(at).xid());
        }
        assertThat(sub.abortLsn()).isLessThan(commit.commitLsn());
        assertThat(whole.abortLsn()).isGreaterThan(commit.endLsn());
        assertThat(sub.abortTimeMicros()).isLessThanOrEqualTo(commit.commitTimeMicros());
        assertThat(whole.abortTimeMicros()).isGreaterThanOrEqualTo(commit.commitTimeMicros());
        assertThat(PgTimestamp.toInstant(whole.abortTimeMicros())).isAfter(CAPTURED_AFTER).isBefore(Instant.now());
    }

    @Test
    void theDecoderKnowsWhenItIsInsideAStream() {
        List<CapturedMessage> lines = CapturedMessage.loadFixture("stream-abort-proto4");
        PgOutputDecoder decoder = new PgOutputDecoder();
        assertThat(decoder.inStream()).isFalse();
        for (CapturedMessage line : lines) {
            PgOutputMessage m = decoder.decode(line.bytes(), 0, line.bytes().length);
            boolean expected = !(m instanceof StreamStop || m instanceof StreamAbort || m instanceof StreamCommit);
            assertThat(decoder.inStream()).as("after %s", m).isEqualTo(expected);
        }
    }

    // ---- buffers ------------------------------------------------------------------------------------

    @Test
    void decodesFromANonZeroArrayOffsetWithoutCopying() {
        for (String name : List.of("changes-proto1", "binary-proto1", "streaming-proto2", "stream-abort-proto4")) {
            List<CapturedMessage> lines = CapturedMessage.loadFixture(name);
            PgOutputDecoder arrays = new PgOutputDecoder();
            PgOutputDecoder slices = new PgOutputDecoder();
            PgOutputDecoder positioned = new PgOutputDecoder();
            List<PgOutputMessage> viaArray = new ArrayList<>();
            List<PgOutputMessage> viaSlice = new ArrayList<>();
            List<PgOutputMessage> viaPosition = new ArrayList<>();
            for (CapturedMessage line : lines) {
                int length = line.bytes().length;
                byte[] padded = new byte[length + 11];
                Arrays.fill(padded, (byte) 0xEE);
                System.arraycopy(line.bytes(), 0, padded, 7, length);

                PgOutputMessage m = arrays.decode(padded, 7, length);
                viaArray.add(m);
                if (m instanceof Insert insert) {
                    TupleData tuple = insert.newTuple();
                    assertThat(tuple.buffer()).isSameAs(padded);
                    for (int c = 0; c < tuple.size(); c++) {
                        assertThat(tuple.offset(c)).isBetween(7, 7 + length);
                    }
                }
                // what pgjdbc's readPending() returns: a slice past the XLogData header, at position 0
                ByteBuffer slice = ByteBuffer.wrap(padded, 7, length).slice();
                assertThat(slice.arrayOffset()).isEqualTo(7);
                viaSlice.add(slices.decode(slice));
                // a buffer whose position is not 0: decoding starts there and leaves it alone
                ByteBuffer buffer = ByteBuffer.wrap(padded, 7, length);
                viaPosition.add(positioned.decode(buffer));
                assertThat(buffer.position()).isEqualTo(7);
                assertThat(buffer.remaining()).isEqualTo(length);
            }
            List<String> expected = MessageStructure.of(CapturedMessage.decodeAll(lines));
            assertThat(MessageStructure.of(viaArray)).as(name).isEqualTo(expected);
            assertThat(MessageStructure.of(viaSlice)).as(name).isEqualTo(expected);
            assertThat(MessageStructure.of(viaPosition)).as(name).isEqualTo(expected);
        }
    }

    @Test
    void aDirectBufferIsCopiedAndDecoded() {
        byte[] commitBytes = changes.line(changes.indexesOf(Commit.class).get(0)).bytes();
        ByteBuffer direct = ByteBuffer.allocateDirect(commitBytes.length + 3);
        direct.put(new byte[] {1, 2, 3}).put(commitBytes).flip().position(3);
        PgOutputMessage m = new PgOutputDecoder().decode(direct);
        assertThat(m).isEqualTo(changes.get(changes.indexesOf(Commit.class).get(0)));
        assertThat(direct.position()).isEqualTo(3);
    }

    @Test
    void aCopiedTupleOutlivesTheReceiveBuffer() {
        Relation kinds = changes.relation("kinds");
        int at = changes.messages.indexOf(changes.changesTo(kinds, Update.class).get(0));
        byte[] bytes = changes.line(at).bytes().clone();
        Update update = (Update) new PgOutputDecoder().decode(bytes, 0, bytes.length);
        TupleData copy = update.newTuple().copy();
        Arrays.fill(bytes, (byte) 'X');
        assertThat(texts(copy)).containsExactly("2", "ok", "5", "changed", null, "1.50", "x");
        assertThat(copy.isUnchangedToast(4)).isTrue();
        assertThat(texts(update.newTuple()).get(3)).as("the original is a view of the overwritten buffer").isEqualTo("XXXXXXX");
    }

    @Test
    void decodingARowAllocatesLittle() {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        Relation kinds = changes.relation("kinds");
        byte[] insert = changes.line(changes.messages.indexOf(changes.changesTo(kinds, Insert.class).get(0))).bytes();
        PgOutputDecoder decoder = new PgOutputDecoder();
        for (int i = 0; i < 20_000; i++) {
            decoder.decode(insert, 0, insert.length);
        }
        int rounds = 100_000;
        long before = threads.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < rounds; i++) {
            decoder.decode(insert, 0, insert.length);
        }
        long perMessage = (threads.getCurrentThreadAllocatedBytes() - before) / rounds;
        // an Insert record, a TupleData and its three arrays for 7 columns: about 200 bytes, no Strings
        assertThat(perMessage).isLessThan(320);
    }

    // ---- malformed input ----------------------------------------------------------------------------

    @Test
    void everyTruncationOfEveryCapturedMessageIsRefusedNamingTypeAndOffset() {
        for (String name : List.of("changes-proto1", "messages-proto1", "binary-proto1", "streaming-proto2",
                "stream-abort-proto4")) {
            PgOutputDecoder decoder = new PgOutputDecoder();
            for (CapturedMessage line : CapturedMessage.loadFixture(name)) {
                byte[] bytes = line.bytes();
                for (int length = 1; length < bytes.length; length++) {
                    if (bytes[0] == 'A' && length == 9) {
                        continue; // a protocol 4 Stream Abort cut after the xids is a whole protocol 2 one
                    }
                    int cut = length;
                    assertThatThrownBy(() -> decoder.decode(bytes, 0, cut))
                            .as("%s: %s cut to %d bytes", name, HEX.formatHex(bytes), cut)
                            .isInstanceOf(PgOutputFormatException.class)
                            .hasMessageContaining("('" + (char) bytes[0] + "')")
                            .hasMessageContaining("of a " + cut + "-byte message");
                }
                decoder.decode(bytes, 0, bytes.length);
            }
        }
    }

    @Test
    void truncationMessagesSayWhatIsMissing() {
        byte[] begin = changes.line(0).bytes();
        assertThatThrownBy(() -> new PgOutputDecoder().decode(begin, 0, 13))
                .isInstanceOf(PgOutputFormatException.class)
                .hasMessage("pgoutput Begin ('B') message is truncated: the commit timestamp needs 8 bytes but 4 remain"
                        + " (at offset 9 of a 13-byte message)");
        byte[] relation = changes.line(changes.messages.indexOf(changes.relation("kinds"))).bytes();
        assertThatThrownBy(() -> new PgOutputDecoder().decode(relation, 0, 8))
                .hasMessage("pgoutput Relation ('R') message is truncated: the namespace has no terminating NUL byte"
                        + " (at offset 5 of a 8-byte message)");
    }

    @Test
    void unknownAndUnrequestedMessageTypesAreRefused() {
        assertThatThrownBy(() -> new PgOutputDecoder().decode(new byte[] {'Z', 0, 0}, 0, 3))
                .isInstanceOf(PgOutputFormatException.class)
                .hasMessage("unknown pgoutput message type 'Z' at offset 0 of a 3-byte message");
        assertThatThrownBy(() -> new PgOutputDecoder().decode(new byte[] {0}, 0, 1))
                .hasMessage("unknown pgoutput message type 0x00 at offset 0 of a 1-byte message");
        assertThatThrownBy(() -> new PgOutputDecoder().decode(new byte[] {'b', 0}, 0, 2))
                .isInstanceOf(PgOutputFormatException.class)
                .hasMessageContaining("unexpected pgoutput message Begin Prepare ('b')")
                .hasMessageContaining("two_phase");
        assertThatThrownBy(() -> new PgOutputDecoder().decode(new byte[0], 0, 0))
                .isInstanceOf(PgOutputFormatException.class)
                .hasMessageContaining("empty");
    }

    @Test
    void corruptTupleKindsMarkersLengthsAndTrailingBytesAreRefused() {
        Relation kinds = changes.relation("kinds");
        byte[] insert = changes.line(changes.messages.indexOf(changes.changesTo(kinds, Insert.class).get(0))).bytes();
        // 'I', relation id (4), 'N', column count (2), then the first column's kind at offset 8
        assertThat(insert[8]).isEqualTo(TupleData.TEXT);

        byte[] badKind = insert.clone();
        badKind[8] = 'x';
        assertThatThrownBy(() -> new PgOutputDecoder().decode(badKind, 0, badKind.length))
                .isInstanceOf(PgOutputFormatException.class)
                .hasMessageStartingWith("pgoutput Insert ('I') message has unknown kind 'x' for tuple column 0")
                .hasMessageContaining("at offset 8 of a " + insert.length + "-byte message");

        byte[] badMarker = insert.clone();
        badMarker[5] = 'Q';
        assertThatThrownBy(() -> new PgOutputDecoder().decode(badMarker, 0, badMarker.length))
                .hasMessageStartingWith("pgoutput Insert ('I') message has 'Q' where the new tuple marker 'N' belongs");

        byte[] manyColumns = insert.clone();
        manyColumns[6] = (byte) 0xFF;
        manyColumns[7] = (byte) 0xFF;
        assertThatThrownBy(() -> new PgOutputDecoder().decode(manyColumns, 0, manyColumns.length))
                .hasMessage("pgoutput Insert ('I') message announces 65535 tuple columns but " + (insert.length - 8)
                        + " bytes remain (at offset 6 of a " + insert.length + "-byte message)");

        byte[] negativeLength = insert.clone();
        Arrays.fill(negativeLength, 9, 13, (byte) 0xFF);
        assertThatThrownBy(() -> new PgOutputDecoder().decode(negativeLength, 0, negativeLength.length))
                .hasMessageStartingWith("pgoutput Insert ('I') message announces -1 bytes for the value");

        byte[] update = changes.line(changes.messages.indexOf(changes.changesTo(kinds, Update.class).get(0))).bytes().clone();
        update[5] = 'X';
        assertThatThrownBy(() -> new PgOutputDecoder().decode(update, 0, update.length))
                .hasMessageStartingWith("pgoutput Update ('U') message has tuple marker 'X' where 'K', 'O' or 'N' belongs");

        byte[] commit = changes.line(changes.indexesOf(Commit.class).get(0)).bytes();
        byte[] longer = Arrays.copyOf(commit, commit.length + 1);
        assertThatThrownBy(() -> new PgOutputDecoder().decode(longer, 0, longer.length))
                .hasMessage("pgoutput Commit ('C') message has 1 unexpected trailing bytes (at offset 26 of a 27-byte message)");
    }

    @Test
    void streamMessagesOutOfOrderAreRefused() {
        Fixture streaming = new Fixture("streaming-proto2");
        byte[] start = streaming.line(1).bytes();
        PgOutputDecoder decoder = new PgOutputDecoder();
        assertThatThrownBy(() -> decoder.decode(new byte[] {'E'}, 0, 1))
                .hasMessageStartingWith("pgoutput Stream Stop ('E') message arrived without a Stream Start");
        decoder.decode(start, 0, start.length);
        assertThatThrownBy(() -> decoder.decode(start, 0, start.length))
                .hasMessageStartingWith("pgoutput Stream Start ('S') message arrived while a stream was already open");

        // an in-stream Insert read as if outside a stream: its xid is taken for the relation id, and what
        // follows is not the 'N' marker
        int insertAt = streaming.indexesOf(Insert.class).get(0);
        byte[] insert = streaming.line(insertAt).bytes();
        assertThatThrownBy(() -> new PgOutputDecoder().decode(insert, 0, insert.length))
                .isInstanceOf(PgOutputFormatException.class)
                .hasMessageContaining("where the new tuple marker 'N' belongs");
    }

    // ---- helpers ------------------------------------------------------------------------------------

    private static String kinds(TupleData tuple) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < tuple.size(); i++) {
            out.append((char) tuple.kind(i));
        }
        return out.toString();
    }

    private static List<String> texts(TupleData tuple) {
        List<String> values = new ArrayList<>();
        for (int i = 0; i < tuple.size(); i++) {
            values.add(tuple.text(i));
        }
        return values;
    }

    private static String hex(TupleData tuple, int column) {
        return HEX.formatHex(tuple.buffer(), tuple.offset(column), tuple.offset(column) + tuple.length(column));
    }

    /** A fixture decoded in order, with lookups by message kind and relation. */
    private static final class Fixture {
        final List<CapturedMessage> lines;
        final List<PgOutputMessage> messages;

        Fixture(String name) {
            lines = CapturedMessage.loadFixture(name);
            messages = CapturedMessage.decodeAll(lines);
        }

        CapturedMessage line(int index) {
            return lines.get(index);
        }

        PgOutputMessage get(int index) {
            return messages.get(index);
        }

        <T extends PgOutputMessage> T get(int index, Class<T> kind) {
            assertThat(messages.get(index)).isInstanceOf(kind);
            return kind.cast(messages.get(index));
        }

        List<Integer> indexesOf(Class<? extends PgOutputMessage> kind) {
            List<Integer> indexes = new ArrayList<>();
            for (int i = 0; i < messages.size(); i++) {
                if (kind.isInstance(messages.get(i))) {
                    indexes.add(i);
                }
            }
            return indexes;
        }

        <T extends PgOutputMessage> List<T> all(Class<T> kind) {
            return messages.stream().filter(kind::isInstance).map(kind::cast).toList();
        }

        Relation relation(String name) {
            return all(Relation.class).stream().filter(r -> r.name().equals(name)).findFirst()
                    .orElseThrow(() -> new AssertionError("no Relation " + name));
        }

        Type type(String name) {
            return all(Type.class).stream().filter(t -> t.name().equals(name)).findFirst()
                    .orElseThrow(() -> new AssertionError("no Type " + name));
        }

        <T extends PgOutputMessage> List<T> changesTo(Relation relation, Class<T> kind) {
            return all(kind).stream().filter(m -> relationIdOf(m) == relation.relationId()).toList();
        }

        private static int relationIdOf(PgOutputMessage m) {
            if (m instanceof Insert i) {
                return i.relationId();
            } else if (m instanceof Update u) {
                return u.relationId();
            } else if (m instanceof Delete d) {
                return d.relationId();
            }
            throw new IllegalArgumentException("not a row change: " + m);
        }
    }
}
