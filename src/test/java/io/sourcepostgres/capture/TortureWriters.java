package io.sourcepostgres.capture;

import io.sourcepostgres.testing.PostgresCluster;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Concurrent writers for the torture test: each thread runs transactions of random shape against random rows
 * of the torture tables — inserts (between and beyond the preexisting rows), updates, primary key changes
 * and deletes, alone or several in a transaction, on one table or several, updates of hundreds of rows in
 * key order (a chunk's worth), some rolled back on purpose (whole, or to a savepoint), and
 * some that sleep between their first change and their commit so that their commit lands after a backfill
 * chunk read the row they changed — among them updates of rows that another transaction holds locked FOR
 * KEY SHARE, so that the rows' xmax is a MultiXact. Unique violations and deadlocks are expected (they roll back like the
 * rest); any other failure is kept and fails the test.
 */
final class TortureWriters implements AutoCloseable {
    private static final String[] ODD_TEXT = {"plain", "with 'quote'", "back\\slash", "tab\there", "new\nline", "\"dq\"",
        "ünïcödé", "😀 emoji", "中文", "", " ", "\\N", "x".repeat(300)};

    private final PostgresCluster pg;
    private final String database;
    private final List<TortureTable> tables;
    private final int keySpace;
    private final boolean slowTransactions;
    private final boolean lockedUpdates;
    private final boolean preparedTransactions;
    private final int pauseMillis;
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean stop;

    final AtomicLong commits = new AtomicLong();
    final AtomicLong rollbacks = new AtomicLong();
    final AtomicLong conflicts = new AtomicLong();
    final AtomicLong slowCommits = new AtomicLong();
    final AtomicLong prepared = new AtomicLong();
    private final AtomicLong gids = new AtomicLong();
    final AtomicLong statements = new AtomicLong();
    final ConcurrentLinkedQueue<String> unexpected = new ConcurrentLinkedQueue<>();

    /**
     * @param keySpace row numbers are drawn from [0, keySpace): the preexisting rows hold the even ones
     * @param slowTransactions whether some transactions sleep 50–300 ms between their first change and commit
     * @param lockedUpdates whether some of those update rows that another transaction holds FOR KEY SHARE
     * @param preparedTransactions whether some transactions are prepared (two-phase) and committed or rolled
     *     back later (the server needs max_prepared_transactions)
     * @param pauseMillis the longest pause of a writer between two transactions
     */
    TortureWriters(PostgresCluster pg, String database, List<TortureTable> tables, int keySpace, boolean slowTransactions,
            boolean lockedUpdates, boolean preparedTransactions, int pauseMillis) {
        this.preparedTransactions = preparedTransactions;
        this.pg = pg;
        this.database = database;
        this.tables = tables;
        this.keySpace = keySpace;
        this.slowTransactions = slowTransactions;
        this.lockedUpdates = lockedUpdates;
        this.pauseMillis = pauseMillis;
    }

    void start(int count, long seed) {
        for (int w = 0; w < count; w++) {
            Random random = new Random(seed * 31 + w);
            Thread t = new Thread(() -> run(random), "torture-writer-" + w);
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
    }

    /** Stops the writers and waits for their last transactions to end. */
    @Override
    public void close() {
        stop = true;
        for (Thread t : threads) {
            try {
                t.join(60_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    String summary() {
        return commits + " commits (" + slowCommits + " slow, " + prepared + " prepared), " + statements + " statements, " + rollbacks
                + " rolled back on purpose, " + conflicts + " rolled back on unique violations, deadlocks or lock timeouts";
    }

    private void run(Random random) {
        try (Connection c = pg.connect(database); Connection other = pg.connect(database)) {
            c.setAutoCommit(false);
            try (Statement st = other.createStatement()) {
                // It may wait for a row that waits for c's lock, which c holds until 'other' is done: the
                // server cannot see that deadlock, so a lock timeout breaks it.
                st.execute("SET lock_timeout = '2s'");
            }
            other.setAutoCommit(false);
            while (!stop) {
                transaction(c, other, random);
                if (pauseMillis > 0) {
                    Thread.sleep(random.nextInt(pauseMillis + 1));
                }
            }
        } catch (SQLException e) {
            unexpected.add(Thread.currentThread().getName() + ": " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void transaction(Connection c, Connection other, Random random) throws SQLException, InterruptedException {
        int shape = random.nextInt(100);
        try {
            if (slowTransactions && lockedUpdates && shape >= 96) {
                lockedWhileUpdated(c, other, random, pick(random));
                commits.incrementAndGet();
                return;
            }
            if (preparedTransactions && slowTransactions && shape >= 93) {
                preparedThenEnded(c, random);
                return;
            }
            if (shape < 38) {
                change(c, random, pick(random));
                c.commit();
            } else if (shape < 62) {
                TortureTable t = pick(random);
                for (int i = 2 + random.nextInt(5); i > 0; i--) {
                    change(c, random, t, true);
                }
                c.commit();
            } else if (shape < 82) {
                for (int i = 2 + random.nextInt(7); i > 0; i--) {
                    change(c, random, pick(random), true);
                }
                c.commit();
            } else if (shape < 84) {
                bulkUpdate(c, random, pick(random));
                c.commit();
            } else if (shape < 92 || !slowTransactions) {
                for (int i = 1 + random.nextInt(5); i > 0; i--) {
                    change(c, random, pick(random), true);
                }
                c.rollback();
                rollbacks.incrementAndGet();
                return;
            } else {
                // A change, then a wait: a chunk may read (the old image of) this row before the commit.
                update(c, random, pick(random));
                Thread.sleep(50 + random.nextInt(251));
                for (int i = random.nextInt(3); i > 0; i--) {
                    change(c, random, pick(random), true);
                }
                c.commit();
                slowCommits.incrementAndGet();
            }
            commits.incrementAndGet();
        } catch (SQLException e) {
            c.rollback();
            other.rollback();
            String state = e.getSQLState() == null ? "" : e.getSQLState();
            if (state.equals("23505") || state.equals("40P01") || state.equals("40001") || state.equals("55P03")) {
                conflicts.incrementAndGet();
            } else {
                unexpected.add(Thread.currentThread().getName() + ": " + state + " " + e.getMessage());
            }
        }
    }

    private TortureTable pick(Random random) {
        return tables.get(random.nextInt(tables.size()));
    }

    /** A change; in a transaction of several, sometimes inside a savepoint that is then rolled back or released. */
    private void change(Connection c, Random random, TortureTable t, boolean several) throws SQLException {
        if (!several || random.nextInt(5) != 0) {
            change(c, random, t);
            return;
        }
        try (Statement st = c.createStatement()) {
            st.execute("SAVEPOINT torture");
            try {
                change(c, random, t);
            } catch (SQLException e) {
                // A conflict inside the savepoint: undo only that, the transaction goes on.
                st.execute("ROLLBACK TO SAVEPOINT torture");
                return;
            }
            st.execute(random.nextBoolean() ? "ROLLBACK TO SAVEPOINT torture" : "RELEASE SAVEPOINT torture");
        }
    }

    private void change(Connection c, Random random, TortureTable t) throws SQLException {
        int op = random.nextInt(100);
        if (op < 30) {
            insert(c, random, t);
        } else if (op < 65) {
            update(c, random, t);
        } else if (op < 80) {
            keyChange(c, random, t);
        } else {
            delete(c, random, t);
        }
    }

    private void insert(Connection c, Random random, TortureTable t) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(t.insertSql())) {
            int p = t.identity() ? 1 : bindKey(ps, 1, t, row(random));
            bindValues(ps, p, random);
            ps.executeUpdate();
        }
        statements.incrementAndGet();
    }

    private void update(Connection c, Random random, TortureTable t) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(t.updateSql())) {
            int p = bindValues(ps, 1, random);
            bindKey(ps, p, t, row(random));
            ps.executeUpdate();
        }
        statements.incrementAndGet();
    }

    private void keyChange(Connection c, Random random, TortureTable t) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(t.keyChangeSql())) {
            int p = t.identity() ? 1 : bindKey(ps, 1, t, row(random));
            bindKey(ps, p, t, row(random));
            ps.executeUpdate();
        }
        statements.incrementAndGet();
    }

    /**
     * A range of rows locked FOR KEY SHARE (as a foreign key check locks a parent row) while another
     * transaction updates them (no key change, so it does not wait), and both stay open a while: the rows'
     * xmax is then a MultiXact of the two, not a transaction id, while an update is in flight.
     */
    private void lockedWhileUpdated(Connection c, Connection other, Random random, TortureTable t)
            throws SQLException, InterruptedException {
        long from = row(random);
        int rows = 20 + random.nextInt(100);
        try (PreparedStatement ps = c.prepareStatement(t.keyShareLockSql())) {
            int p = bindKey(ps, 1, t, from);
            ps.setInt(p, rows);
            ps.executeQuery().close();
        }
        try (PreparedStatement ps = other.prepareStatement(t.bulkUpdateSql())) {
            ps.setString(1, "locked " + random.nextInt(1_000_000));
            int p = bindKey(ps, 2, t, from);
            ps.setInt(p, rows);
            ps.executeUpdate();
        }
        statements.addAndGet(2);
        Thread.sleep(50 + random.nextInt(251));
        other.commit();
        c.commit();
        slowCommits.incrementAndGet();
    }

    private void bulkUpdate(Connection c, Random random, TortureTable t) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(t.bulkUpdateSql())) {
            ps.setString(1, "bulk " + random.nextInt(1_000_000));
            int p = bindKey(ps, 2, t, row(random));
            ps.setInt(p, 50 + random.nextInt(400));
            ps.executeUpdate();
        }
        statements.incrementAndGet();
    }

    /**
     * Two-phase commit: changes, PREPARE TRANSACTION, a wait (a chunk may read the rows' old images meanwhile,
     * while the prepared transaction holds its locks with no session), then COMMIT PREPARED, or now and then
     * ROLLBACK PREPARED.
     */
    private void preparedThenEnded(Connection c, Random random) throws SQLException, InterruptedException {
        for (int i = 1 + random.nextInt(3); i > 0; i--) {
            change(c, random, pick(random));
        }
        String gid = "torture-" + Thread.currentThread().getName() + "-" + gids.incrementAndGet();
        try (Statement st = c.createStatement()) {
            st.execute("PREPARE TRANSACTION '" + gid + "'");
        }
        c.setAutoCommit(true); // COMMIT PREPARED may not run inside a transaction block
        try {
            Thread.sleep(50 + random.nextInt(251));
            boolean commit = random.nextInt(5) != 0;
            try (Statement st = c.createStatement()) {
                st.execute((commit ? "COMMIT" : "ROLLBACK") + " PREPARED '" + gid + "'");
            }
            if (commit) {
                commits.incrementAndGet();
                prepared.incrementAndGet();
            } else {
                rollbacks.incrementAndGet();
            }
        } finally {
            c.setAutoCommit(false);
        }
    }

    private void delete(Connection c, Random random, TortureTable t) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(t.deleteSql())) {
            bindKey(ps, 1, t, row(random));
            ps.executeUpdate();
        }
        statements.incrementAndGet();
    }

    private long row(Random random) {
        return random.nextInt(keySpace);
    }

    private static int bindKey(PreparedStatement ps, int index, TortureTable t, long row) throws SQLException {
        for (int k = 0; k < t.keyParameters(); k++) {
            ps.setLong(index++, row);
        }
        return index;
    }

    private static int bindValues(PreparedStatement ps, int index, Random random) throws SQLException {
        if (random.nextInt(10) == 0) {
            ps.setNull(index, Types.VARCHAR);
        } else {
            ps.setString(index, ODD_TEXT[random.nextInt(ODD_TEXT.length)] + " " + random.nextInt(1_000_000));
        }
        int x = random.nextInt(10);
        if (x == 0) {
            ps.setNull(index + 1, Types.BIGINT);
        } else if (x == 1) {
            ps.setLong(index + 1, random.nextBoolean() ? Long.MAX_VALUE - random.nextInt(1000)
                    : Long.MIN_VALUE + random.nextInt(1000));
        } else {
            ps.setLong(index + 1, random.nextLong() >> random.nextInt(64));
        }
        return index + 2;
    }
}
