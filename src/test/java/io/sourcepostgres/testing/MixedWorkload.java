package io.sourcepostgres.testing;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A mixed write workload on four tables whose primary keys are of different kinds (int, text, uuid,
 * composite int+text): inserts, upserts, updates, updates that change the primary key, deletes, multi-row
 * statements, multi-table transactions, rollbacks and rolled-back savepoints, and a large TOASTed column
 * that some updates change and most leave alone. Keys are drawn from small ranges so that statements hit
 * rows that exist. Writes also go to an uncaptured table, as noise.
 *
 * <p>Run it single-threaded ({@link #transactions}) or as concurrent writer threads ({@link #startWriters})
 * that survive the server going away (they reconnect until stopped).
 */
public final class MixedWorkload {
    /** The captured tables, their DDL and key columns, in creation order. */
    public static final Map<String, Table> TABLES = tables();

    private static final String BIG_DOC =
            "(SELECT string_agg(md5(random()::text || g::text), '') FROM generate_series(1, 300) g)";

    private final PostgresCluster pg;
    private final String database;

    public MixedWorkload(PostgresCluster pg, String database) {
        this.pg = pg;
        this.database = database;
    }

    /** A captured table: its columns and key as DDL, its key columns, and its replica identity. */
    public record Table(String name, String columnsAndKey, List<String> key, String replicaIdentity) {
        public String qualified() {
            return "public." + name;
        }
    }

    private static Map<String, Table> tables() {
        Map<String, Table> t = new LinkedHashMap<>();
        t.put("accounts", new Table("accounts",
                "id int PRIMARY KEY, owner text NOT NULL, balance numeric(12,2), doc text, updated timestamptz",
                List.of("id"), "DEFAULT"));
        t.put("tags", new Table("tags", "code text PRIMARY KEY, label text, weight double precision",
                List.of("code"), "DEFAULT"));
        t.put("events", new Table("events", "id uuid PRIMARY KEY, payload jsonb, labels text[], at timestamptz",
                List.of("id"), "DEFAULT"));
        t.put("lines", new Table("lines", "order_id int, sku text, qty int, note text, PRIMARY KEY (order_id, sku)",
                List.of("order_id", "sku"), "FULL"));
        return t;
    }

    /** The DDL that creates the captured tables (and the uncaptured noise table) in a source database. */
    /** Creates the workload's tables in the fixture's database, captures them all, and creates their copies in the destination. */
    public static void captureInto(CaptureFixture f, Destination destination) {
        f.sql(sourceDdl());
        for (Table t : TABLES.values()) {
            f.capture("public", t.name());
            destination.createTable(t.qualified(), t.columnsAndKey());
        }
    }

    public static String[] sourceDdl() {
        List<String> ddl = new ArrayList<>();
        for (Table t : TABLES.values()) {
            ddl.add("CREATE TABLE " + t.qualified() + " (" + t.columnsAndKey() + ")");
            if (!t.replicaIdentity().equals("DEFAULT")) {
                ddl.add("ALTER TABLE " + t.qualified() + " REPLICA IDENTITY " + t.replicaIdentity());
            }
        }
        ddl.add("CREATE TABLE public.noise (id bigserial PRIMARY KEY, v text)");
        return ddl.toArray(String[]::new);
    }

    /** Stream name to key columns, as {@link Destination#apply} wants it. */
    public static Map<String, List<String>> keyColumns() {
        Map<String, List<String>> keys = new LinkedHashMap<>();
        TABLES.values().forEach(t -> keys.put(t.name(), t.key()));
        return keys;
    }

    /** What a run of transactions did. */
    public record Counts(long committed, long rolledBack, long failed) {}

    /** Runs {@code n} random transactions on one connection; returns what happened. */
    public Counts transactions(int n, long seed) {
        Random random = new Random(seed);
        long committed = 0;
        long rolledBack = 0;
        long failed = 0;
        try (Connection c = pg.connect(database)) {
            c.setAutoCommit(false);
            for (int i = 0; i < n; i++) {
                switch (transaction(c, random)) {
                    case COMMITTED -> committed++;
                    case ROLLED_BACK -> rolledBack++;
                    case FAILED -> failed++;
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException("workload connection failed (seed " + seed + "): " + e.getMessage(), e);
        }
        return new Counts(committed, rolledBack, failed);
    }

    /**
     * Starts {@code threads} writers running random transactions until {@link Writers#stop}, each pausing
     * {@code pauseMillis} between transactions (so that a test's volume does not depend on machine speed alone).
     */
    public Writers startWriters(int threads, long seed, long pauseMillis) {
        return new Writers(threads, seed, pauseMillis);
    }

    private enum Outcome { COMMITTED, ROLLED_BACK, FAILED }

    private Outcome transaction(Connection c, Random random) throws SQLException {
        int ops = random.nextInt(10) == 0 ? 15 + random.nextInt(15) : 1 + random.nextInt(5);
        boolean rollback = random.nextInt(12) == 0;
        boolean savepoint = !rollback && random.nextInt(8) == 0;
        try {
            for (int i = 0; i < ops; i++) {
                if (savepoint && i == ops / 2) {
                    try (Statement st = c.createStatement()) {
                        st.execute("SAVEPOINT s");
                    }
                    for (int j = 0; j < 3; j++) {
                        operation(c, random);
                    }
                    try (Statement st = c.createStatement()) {
                        st.execute("ROLLBACK TO SAVEPOINT s");
                    }
                }
                operation(c, random);
            }
            if (rollback) {
                c.rollback();
                return Outcome.ROLLED_BACK;
            }
            c.commit();
            return Outcome.COMMITTED;
        } catch (SQLException e) {
            String state = e.getSQLState() == null ? "" : e.getSQLState();
            // Concurrent writers collide: unique violations, deadlocks, serialization failures.
            if (state.equals("23505") || state.equals("40P01") || state.equals("40001")) {
                c.rollback();
                return Outcome.FAILED;
            }
            throw e;
        }
    }

    private static void operation(Connection c, Random r) throws SQLException {
        int accountId = 1 + r.nextInt(400);
        String tag = "tag-" + r.nextInt(300);
        int eventNo = r.nextInt(300);
        int orderId = 1 + r.nextInt(80);
        String sku = "sku-" + r.nextInt(8);
        switch (r.nextInt(22)) {
            case 0, 1 -> exec(c, "INSERT INTO accounts (id, owner, balance, doc, updated) VALUES (?, ?, ?, "
                    + (r.nextBoolean() ? BIG_DOC : "NULL") + ", now()) ON CONFLICT (id) DO UPDATE SET owner = EXCLUDED.owner, "
                    + "balance = EXCLUDED.balance, updated = now()",
                    accountId, "owner " + r.nextInt(1000), new java.math.BigDecimal(r.nextInt(1_000_000)).movePointLeft(2));
            case 2, 3 -> exec(c, "UPDATE accounts SET balance = balance + ?, updated = now() WHERE id = ?",
                    new java.math.BigDecimal(r.nextInt(10_000) - 5000).movePointLeft(2), accountId);
            case 4 -> exec(c, "UPDATE accounts SET doc = " + BIG_DOC + " WHERE id = ?", accountId);
            case 5 -> exec(c, "UPDATE accounts SET doc = ? WHERE id = ?", "small " + r.nextInt(100), accountId);
            case 6 -> {
                int to = 1 + r.nextInt(400);
                exec(c, "UPDATE accounts SET id = ? WHERE id = ? AND NOT EXISTS (SELECT 1 FROM accounts WHERE id = ?)",
                        to, accountId, to);
            }
            case 7 -> exec(c, "DELETE FROM accounts WHERE id = ?", accountId);
            case 8 -> exec(c, "UPDATE accounts SET balance = balance * 1.01 WHERE id BETWEEN ? AND ? + 25",
                    accountId, accountId);
            case 9, 10 -> exec(c, "INSERT INTO tags VALUES (?, ?, ?) ON CONFLICT (code) DO UPDATE SET label = EXCLUDED.label, "
                    + "weight = EXCLUDED.weight", tag, "label " + r.nextInt(50), r.nextDouble() * 100);
            case 11 -> exec(c, "DELETE FROM tags WHERE code = ?", tag);
            case 12 -> {
                String to = "tag-" + r.nextInt(300);
                exec(c, "UPDATE tags SET code = ? WHERE code = ? AND NOT EXISTS (SELECT 1 FROM tags WHERE code = ?)",
                        to, tag, to);
            }
            case 13, 14 -> exec(c, "INSERT INTO events VALUES (md5(?)::uuid, ?::jsonb, ?::text[], now()) ON CONFLICT (id) "
                    + "DO UPDATE SET payload = EXCLUDED.payload, labels = EXCLUDED.labels",
                    "e" + eventNo, "{\"n\": " + r.nextInt(1000) + ", \"s\": \"caf\\u00e9 " + r.nextInt(9) + "\", \"nested\": {\"a\": [1, null, 2.5]}}",
                    "{a,\"b c\",NULL," + r.nextInt(5) + "}");
            case 15 -> exec(c, "UPDATE events SET payload = jsonb_set(payload, '{n}', to_jsonb(?::int)) WHERE id = md5(?)::uuid",
                    r.nextInt(1000), "e" + eventNo);
            case 16 -> exec(c, "DELETE FROM events WHERE id = md5(?)::uuid", "e" + eventNo);
            case 17 -> {
                String to = "e" + r.nextInt(300);
                exec(c, "UPDATE events SET id = md5(?)::uuid WHERE id = md5(?)::uuid AND NOT EXISTS "
                        + "(SELECT 1 FROM events WHERE id = md5(?)::uuid)", to, "e" + eventNo, to);
            }
            case 18 -> exec(c, "INSERT INTO lines SELECT ?, 'sku-' || g, g, 'bulk' FROM generate_series(0, 7) g "
                    + "ON CONFLICT DO NOTHING", orderId);
            case 19 -> exec(c, "UPDATE lines SET qty = qty + 1, note = ? WHERE order_id = ?", "n" + r.nextInt(99), orderId);
            case 20 -> {
                if (r.nextBoolean()) {
                    exec(c, "DELETE FROM lines WHERE order_id = ?", orderId);
                } else {
                    String to = "sku-" + r.nextInt(8);
                    exec(c, "UPDATE lines SET sku = ? WHERE order_id = ? AND sku = ? AND NOT EXISTS "
                            + "(SELECT 1 FROM lines WHERE order_id = ? AND sku = ?)", to, orderId, sku, orderId, to);
                }
            }
            default -> exec(c, "INSERT INTO noise (v) VALUES (?)", "noise " + r.nextInt());
        }
    }

    private static void exec(Connection c, String sql, Object... params) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                ps.setObject(i + 1, params[i]);
            }
            ps.executeUpdate();
        }
    }

    /** Concurrent writer threads; they reconnect when the server goes away, until stopped. */
    public final class Writers implements AutoCloseable {
        private final AtomicBoolean stop = new AtomicBoolean();
        private final AtomicLong committed = new AtomicLong();
        private final AtomicLong rolledBack = new AtomicLong();
        private final AtomicLong failed = new AtomicLong();
        private final AtomicLong connectionLosses = new AtomicLong();
        private final List<Thread> threads = new ArrayList<>();
        private final List<Throwable> errors = java.util.Collections.synchronizedList(new ArrayList<>());

        private final long pauseMillis;

        private Writers(int count, long seed, long pauseMillis) {
            this.pauseMillis = pauseMillis;
            for (int i = 0; i < count; i++) {
                long threadSeed = seed * 31 + i;
                Thread t = new Thread(() -> loop(threadSeed), "workload-writer-" + i);
                t.setDaemon(true);
                threads.add(t);
                t.start();
            }
        }

        private void loop(long seed) {
            Random random = new Random(seed);
            while (!stop.get()) {
                try (Connection c = pg.connect(database)) {
                    c.setAutoCommit(false);
                    while (!stop.get()) {
                        switch (transaction(c, random)) {
                            case COMMITTED -> committed.incrementAndGet();
                            case ROLLED_BACK -> rolledBack.incrementAndGet();
                            case FAILED -> failed.incrementAndGet();
                        }
                        if (pauseMillis > 0) {
                            sleep(pauseMillis);
                        }
                    }
                } catch (SQLException e) {
                    String state = e.getSQLState() == null ? "" : e.getSQLState();
                    if (state.startsWith("08") || state.startsWith("57P")) {
                        connectionLosses.incrementAndGet();
                        sleep(100); // the server is going away or coming back: retry until stopped
                    } else {
                        errors.add(new AssertionError("writer failed (seed " + seed + "): " + e.getMessage(), e));
                        return;
                    }
                }
            }
        }

        /** Stops the writers, waits for them, and fails if any of them hit an unexpected error. */
        public Counts stop() {
            stop.set(true);
            for (Thread t : threads) {
                try {
                    t.join(60_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            if (!errors.isEmpty()) {
                AssertionError e = new AssertionError("workload writers failed");
                errors.forEach(e::addSuppressed);
                throw e;
            }
            return new Counts(committed.get(), rolledBack.get(), failed.get());
        }

        public long committed() {
            return committed.get();
        }

        public long connectionLosses() {
            return connectionLosses.get();
        }

        @Override
        public void close() {
            stop.set(true);
        }

        private static void sleep(long millis) {
            try {
                Thread.sleep(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
