package io.sourcepostgres.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.postgresql.PGProperty;

/**
 * A throwaway PostgreSQL cluster of any version 12–18, made by {@code scripts/pg-cluster} (the same script
 * the demo and the benchmarks use). The superuser {@code postgres} connects without a password; every
 * other role needs its password (scram-sha-256), so authentication failures can be tested.
 *
 * <pre>
 * try (PostgresCluster replica = PostgresCluster.start(PostgresCluster.options().set("wal_level", "replica"))) { ... }
 * </pre>
 */
public final class PostgresCluster implements AutoCloseable {
    /** The version under test: {@code -Dpg.version=12..18}, default 17. */
    public static final String VERSION = System.getProperty("pg.version", "17");

    private static final Path SCRIPT = projectDir().resolve("scripts/pg-cluster");
    private static final Path CLUSTERS = Paths.get(System.getProperty("java.io.tmpdir"), "source-postgres-test-clusters");

    private final Path dataDir;
    private final int port;
    private final Options options;
    private String primarySlotName;

    private PostgresCluster(Path dataDir, int port, Options options) {
        this.dataDir = dataDir;
        this.port = port;
        this.options = options;
    }

    public static Options options() {
        return new Options();
    }

    public static PostgresCluster start() {
        return start(options());
    }

    public static PostgresCluster start(Options options) {
        try {
            Files.createDirectories(CLUSTERS);
            CLUSTERS.toFile().setExecutable(true, false);
            CLUSTERS.toFile().setReadable(true, false);
            Path dir = CLUSTERS.resolve("pg" + options.version + "-" + UUID.randomUUID().toString().substring(0, 8));
            int port = runStart(dir, options);
            PostgresCluster cluster = new PostgresCluster(dir, port, options);
            Runtime.getRuntime().addShutdownHook(new Thread(cluster::destroyQuietly));
            return cluster;
        } catch (IOException e) {
            throw new IllegalStateException("cannot start a PostgreSQL cluster", e);
        }
    }

    public int port() {
        return port;
    }

    public String version() {
        return options.version;
    }

    public int majorVersion() {
        return Integer.parseInt(options.version);
    }

    public Path dataDir() {
        return dataDir;
    }

    public String jdbcUrl(String database) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
    }

    /** A libpq URI for the connector's config; {@code password} may be null. */
    public String uri(String user, String password, String database) {
        return "postgres://" + enc(user) + (password == null ? "" : ":" + enc(password)) + "@127.0.0.1:" + port + "/"
                + enc(database) + "?sslmode=disable";
    }

    /** A superuser connection to {@code database}. */
    public Connection connect(String database) throws SQLException {
        return DriverManager.getConnection(jdbcUrl(database), "postgres", "");
    }

    public Connection connect() throws SQLException {
        return connect("postgres");
    }

    /** A superuser logical replication connection (a walsender) to {@code database}, as the connector opens one. */
    public Connection replicationConnection(String database) throws SQLException {
        Properties p = new Properties();
        PGProperty.USER.set(p, "postgres");
        PGProperty.REPLICATION.set(p, "database");
        PGProperty.PREFER_QUERY_MODE.set(p, "simple");
        PGProperty.ASSUME_MIN_SERVER_VERSION.set(p, "10");
        return DriverManager.getConnection(jdbcUrl(database), p);
    }

    /** Runs SQL as superuser in {@code database}, statement by statement as written. */
    public void execute(String database, String... sql) {
        try (Connection c = connect(database); Statement st = c.createStatement()) {
            for (String s : sql) {
                st.execute(s);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("SQL failed: " + String.join("; ", sql) + ": " + e.getMessage(), e);
        }
    }

    /** Creates a fresh database with a unique name and returns the name. */
    public String createDatabase(String prefix) {
        String name = prefix + "_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
        execute("postgres", "CREATE DATABASE \"" + name + "\"");
        return name;
    }

    /** Drops every replication slot of the cluster (logical slots retain WAL forever). */
    public void dropAllSlots() {
        execute("postgres",
                "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE active_pid IS NOT NULL",
                "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE NOT active");
    }

    public void stop() {
        script("stop", dataDir.toString());
    }

    /**
     * Makes a streaming standby of this cluster and starts it: this cluster is stopped cleanly for a moment and its
     * data directory copied (the server bundles have no pg_basebackup), the standby streams through a physical slot
     * of this cluster ({@link #primarySlotName()} of the standby) with {@code hot_standby_feedback = on}, and the
     * call returns once it streams. {@code standbyOptions} adds settings (its version is this cluster's).
     */
    public PostgresCluster startStandby(Options standbyOptions) {
        String slot = "standby_" + UUID.randomUUID().toString().replace("-", "").substring(0, 8);
        execute("postgres", "SELECT pg_create_physical_replication_slot('" + slot + "', true)");
        Path dir = CLUSTERS.resolve("pg" + options.version + "-standby-" + UUID.randomUUID().toString().substring(0, 8));
        stop();
        try {
            script("standby-copy", dataDir.toString(), dir.toString());
        } finally {
            restart();
        }
        Options o = new Options().version(options.version);
        o.set("primary_conninfo", "host=127.0.0.1 port=" + port + " user=postgres dbname=postgres application_name=" + slot)
                .set("primary_slot_name", slot)
                .set("hot_standby_feedback", "on")
                .set("unix_socket_directories", dir.toString());
        o.settings.putAll(standbyOptions.settings);
        PostgresCluster standby = new PostgresCluster(dir, runStart(dir, o), o);
        Runtime.getRuntime().addShutdownHook(new Thread(standby::destroyQuietly));
        standby.primarySlotName = slot;
        awaitTrue("standby " + slot + " streams", () -> "streaming".equals(standby.scalar("postgres",
                "SELECT status FROM pg_stat_wal_receiver")));
        return standby;
    }

    /** The physical slot on the primary that this standby streams from; null for a cluster not made as a standby. */
    public String primarySlotName() {
        return primarySlotName;
    }

    /** Waits until this standby has replayed everything {@code primary} had written when the call began. */
    public void awaitReplayOf(PostgresCluster primary) {
        String target = primary.scalar("postgres", "SELECT pg_current_wal_lsn()::text");
        awaitTrue("replay of " + target, () -> "t".equals(scalar("postgres",
                "SELECT pg_last_wal_replay_lsn() >= '" + target + "'::pg_lsn")));
    }

    /** Promotes this standby to a primary, returning once it accepts writes. */
    public void promote() {
        execute("postgres", "SELECT pg_promote(true, 60)");
        awaitTrue("promotion", () -> "f".equals(scalar("postgres", "SELECT pg_is_in_recovery()")));
    }

    /** The first column of the first row, as text (null for no row); as superuser in {@code database}. */
    public String scalar(String database, String sql) {
        try (Connection c = connect(database); Statement st = c.createStatement();
                java.sql.ResultSet rs = st.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        } catch (SQLException e) {
            throw new IllegalStateException(sql + ": " + e.getMessage(), e);
        }
    }

    private static void awaitTrue(String what, java.util.function.BooleanSupplier condition) {
        Await.until(what, java.time.Duration.ofSeconds(120), condition);
    }

    /** Stops like a crash: no checkpoint, clients cut. */
    public void stopImmediate() {
        script("stop", dataDir.toString(), "--immediate");
    }

    /** Starts again on the same port after {@link #stop}. */
    public void restart() {
        List<String> args = new ArrayList<>(List.of("start", dataDir.toString(), "--version", options.version,
                "--port", String.valueOf(port)));
        options.settings.forEach((k, v) -> {
            args.add("--set");
            args.add(k + "=" + v);
        });
        addFiles(args, options);
        for (int attempt = 1; ; attempt++) {
            try {
                script(args.toArray(String[]::new));
                return;
            } catch (IllegalStateException e) {
                // While the server was down its port was free, and it lies in the kernel's ephemeral range: a
                // client retrying to connect to it may briefly hold it (a TCP self-connect). Such a socket
                // closes within moments.
                if (attempt == 5 || e.getMessage() == null || !e.getMessage().contains("Address already in use")) {
                    throw e;
                }
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    private static void addFiles(List<String> args, Options options) {
        for (Path file : options.files) {
            args.add("--file");
            args.add(file.toAbsolutePath().toString());
        }
    }

    @Override
    public void close() {
        script("destroy", dataDir.toString());
    }

    private void destroyQuietly() {
        try {
            if (Files.exists(dataDir)) {
                close();
            }
        } catch (RuntimeException ignored) {
            // best effort at JVM exit
        }
    }

    private static int runStart(Path dir, Options options) {
        List<String> args = new ArrayList<>(List.of("start", dir.toString(), "--version", options.version));
        options.settings.forEach((k, v) -> {
            args.add("--set");
            args.add(k + "=" + v);
        });
        for (String hba : options.hbaLines) {
            args.add("--hba");
            args.add(hba);
        }
        addFiles(args, options);
        String output = script(args.toArray(String[]::new));
        // Not anchored at the line start: when the script first fetches a version, Maven's colour reset codes
        // (stderr, merged here) land in front of "port=".
        java.util.regex.Matcher port = java.util.regex.Pattern.compile("(?m)port=(\\d+)\\s*$").matcher(output);
        if (port.find()) {
            return Integer.parseInt(port.group(1));
        }
        script("destroy", dir.toString());
        throw new IllegalStateException("pg-cluster printed no port: " + output);
    }

    static String script(String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add("bash");
        cmd.add(SCRIPT.toString());
        cmd.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(300, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("pg-cluster timed out: " + cmd);
            }
            String text = new String(out, StandardCharsets.UTF_8);
            if (p.exitValue() != 0) {
                throw new IllegalStateException("pg-cluster failed (" + p.exitValue() + "): " + cmd + "\n" + text);
            }
            return text;
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + SCRIPT, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static Path projectDir() {
        String dir = System.getProperty("project.basedir");
        Path p = dir != null ? Paths.get(dir) : Paths.get("").toAbsolutePath();
        while (p != null && !Files.exists(p.resolve("scripts/pg-cluster"))) {
            p = p.getParent();
        }
        if (p == null) {
            throw new IllegalStateException("cannot find scripts/pg-cluster above " + Paths.get("").toAbsolutePath());
        }
        return p;
    }

    private static String enc(String s) {
        return java.net.URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** How a cluster is made: version, extra postgresql.conf settings, extra pg_hba.conf lines, files for the server. */
    public static final class Options {
        private String version = VERSION;
        private final Map<String, String> settings = new LinkedHashMap<>();
        private final List<String> hbaLines = new ArrayList<>();
        private final List<Path> files = new ArrayList<>();

        public Options version(String major) {
            this.version = major;
            return this;
        }

        public Options set(String name, String value) {
            settings.put(name, value);
            return this;
        }

        public Options hba(String line) {
            hbaLines.add(line);
            return this;
        }

        /**
         * Copies {@code file} into the data directory before the server starts, owned by the server's user with
         * mode 0600 (what PostgreSQL demands of a private key); settings name it relative to the data directory,
         * e.g. {@code .file(key).set("ssl_key_file", key.getFileName().toString())}.
         */
        public Options file(Path file) {
            files.add(file);
            return this;
        }
    }
}
