package io.sourcepostgres.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcepostgres.testing.CaptureFixture;
import io.sourcepostgres.testing.Connector;
import io.sourcepostgres.testing.ConnectorProcess;
import io.sourcepostgres.testing.ConnectorRun;
import io.sourcepostgres.testing.Destination;
import io.sourcepostgres.testing.FaultProxy;
import io.sourcepostgres.testing.MixedWorkload;
import io.sourcepostgres.testing.Orchestrator;
import io.sourcepostgres.testing.PostgresCluster;
import io.sourcepostgres.testing.PostgresExtension;
import io.sourcepostgres.testing.SshBastion;
import io.sourcepostgres.testing.TestPki.Issued;
import io.sourcepostgres.testing.TlsCluster;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.security.KeyPair;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The database reached through an SSH bastion (a real SSH server, Apache MINA SSHD, on loopback), configured in
 * Airbyte's shape, run through the real launcher: check, discover and read go through the tunnel (the bastion counts
 * the connections it forwarded), a bastion that drops its sessions mid-stream ends the run with a transient error
 * and the next run resumes without loss, each way the tunnel can fail is named, and no byte of a key or password
 * ever reaches stdout or stderr.
 */
@ExtendWith(PostgresExtension.class)
class SshTunnelIT {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final Duration RUN_TIMEOUT = Duration.ofSeconds(120);
    private static final String[] TABLES =
            MixedWorkload.TABLES.values().stream().map(MixedWorkload.Table::qualified).toArray(String[]::new);

    private static SshBastion bastion;
    private static KeyPair key;

    @BeforeAll
    static void startBastion() {
        key = SshBastion.ed25519();
        bastion = SshBastion.start().authorize(key);
    }

    @AfterAll
    static void stopBastion() {
        bastion.close();
    }

    /** Airbyte's shape for a database the bastion reaches at 127.0.0.1:{@code port}, key login, DEBUG logs. */
    static ObjectNode airbyteConfig(int dbPort, String database, String user, ObjectNode tunnel) {
        ObjectNode c = MAPPER.createObjectNode();
        c.put("host", "127.0.0.1").put("port", dbPort).put("database", database).put("username", user);
        c.putObject("ssl_mode").put("mode", "disable");
        c.set("tunnel_method", tunnel);
        c.put("log_level", "DEBUG");
        return c;
    }

    static ObjectNode keyTunnel(String sshKey) {
        ObjectNode t = MAPPER.createObjectNode();
        t.put("tunnel_method", "SSH_KEY_AUTH").put("tunnel_host", "127.0.0.1").put("tunnel_port", bastion.port())
                .put("tunnel_user", SshBastion.USER).put("ssh_key", sshKey);
        return t;
    }

    static ObjectNode passwordTunnel(String password) {
        ObjectNode t = MAPPER.createObjectNode();
        t.put("tunnel_method", "SSH_PASSWORD_AUTH").put("tunnel_host", "127.0.0.1").put("tunnel_port", bastion.port())
                .put("tunnel_user", SshBastion.USER).put("tunnel_user_password", password);
        return t;
    }

    private static ConnectorRun check(ObjectNode config, String... secrets) {
        ConnectorRun run = Connector.launch(90, "check", "--config", Connector.file(config).toString());
        assertNoSecret(run, secrets);
        return run;
    }

    @Test
    void checkAndDiscoverGoThroughTheTunnelWithAnOpenSshEd25519Key(PostgresCluster pg) {
        String db = pg.createDatabase("ssh");
        pg.execute(db, "CREATE SCHEMA \"Sales\"", "CREATE TABLE \"Sales\".orders (id int PRIMARY KEY)",
                "CREATE TABLE public.noise (id int PRIMARY KEY)", "CREATE PUBLICATION flow_publication FOR ALL TABLES");
        String sshKey = SshBastion.openSsh(key);
        ObjectNode config = airbyteConfig(pg.port(), db, "postgres", keyTunnel(sshKey));
        long before = bastion.forwardedConnections();

        ConnectorRun check = check(config, sshKey);
        assertThat(check.connectionStatus().get("status").asText()).as(check.toString()).isEqualTo("SUCCEEDED");
        assertThat(bastion.forwardedConnections() - before)
                .as("the query and the replication connection both went through the bastion").isGreaterThanOrEqualTo(2);
        assertThat(check.stderr()).as("an unpinned host key is accepted and its fingerprint named")
                .contains("SHA256:").contains("tunnel_method.tunnel_host_key");

        config.putArray("schemas").add("Sales");
        ConnectorRun discover = Connector.launch(90, "discover", "--config", Connector.file(config).toString());
        assertNoSecret(discover, sshKey);
        List<String> streams = new ArrayList<>();
        discover.catalog().get("streams").forEach(s -> streams.add(s.get("namespace").asText() + "." + s.get("name").asText()));
        assertThat(streams).as("schemas lists only Sales").containsExactly("Sales.orders");
    }

    @Test
    void passwordLoginAndAPinnedHostKeyWork(PostgresCluster pg) {
        String db = pg.createDatabase("ssh");
        pg.execute(db, "CREATE PUBLICATION flow_publication FOR ALL TABLES");
        ObjectNode tunnel = passwordTunnel(SshBastion.PASSWORD);
        tunnel.put("tunnel_host_key", bastion.knownHostsLine());
        ConnectorRun run = check(airbyteConfig(pg.port(), db, "postgres", tunnel), SshBastion.PASSWORD);
        assertThat(run.connectionStatus().get("status").asText()).as(run.toString()).isEqualTo("SUCCEEDED");
    }

    @Test
    void aPemRsaKeyAsAirbyteDocumentsItWorks(PostgresCluster pg) {
        KeyPair rsa = SshBastion.rsa();
        bastion.authorize(rsa);
        String db = pg.createDatabase("ssh");
        pg.execute(db, "CREATE PUBLICATION flow_publication FOR ALL TABLES");
        String pem = SshBastion.pkcs8Pem(rsa);
        ConnectorRun run = check(airbyteConfig(pg.port(), db, "postgres", keyTunnel(pem)), pem);
        assertThat(run.connectionStatus().get("status").asText()).as(run.toString()).isEqualTo("SUCCEEDED");
    }

    @Test
    void aKeyTheBastionDoesNotKnowIsRefusedLogin(PostgresCluster pg) {
        String stranger = SshBastion.openSsh(SshBastion.ed25519());
        ConnectorRun run = check(airbyteConfig(pg.port(), "postgres", "postgres", keyTunnel(stranger)), stranger);
        assertFailed(run, "refused the login of user " + SshBastion.USER + " with the key in tunnel_method.ssh_key",
                "authorized_keys");
        ConnectorRun pw = check(airbyteConfig(pg.port(), "postgres", "postgres", passwordTunnel("wrong-pw-123")),
                "wrong-pw-123");
        assertFailed(pw, "refused the login of user " + SshBastion.USER + " with the password in"
                + " tunnel_method.tunnel_user_password");
    }

    @Test
    void aHostKeyOtherThanThePinnedOneIsRefused(PostgresCluster pg) {
        ObjectNode tunnel = keyTunnel(SshBastion.openSsh(key));
        String otherHost = bastion.knownHostsLine().split(" ")[0] + " " + org.apache.sshd.common.config.keys.PublicKeyEntry
                .toString(SshBastion.ed25519().getPublic());
        tunnel.put("tunnel_host_key", otherHost);
        ConnectorRun run = check(airbyteConfig(pg.port(), "postgres", "postgres", tunnel), tunnel.get("ssh_key").asText());
        assertFailed(run, "presented host key SHA256:", "not the one pinned in tunnel_method.tunnel_host_key");
    }

    @Test
    void anUnreachableBastionAndADatabaseTheBastionCannotReachAreNamed(PostgresCluster pg) throws IOException {
        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        ObjectNode noBastion = keyTunnel(SshBastion.openSsh(key));
        noBastion.put("tunnel_port", closed);
        assertFailed(check(airbyteConfig(pg.port(), "postgres", "postgres", noBastion)),
                "The SSH bastion " + SshBastion.USER + "@127.0.0.1:" + closed + " is unreachable", "tunnel_port");

        ConnectorRun noDb = check(airbyteConfig(closed, "postgres", "postgres", keyTunnel(SshBastion.openSsh(key))));
        assertFailed(noDb, "cannot reach the database at 127.0.0.1:" + closed);

        bastion.refuseForwarding(true);
        try {
            assertFailed(check(airbyteConfig(pg.port(), "postgres", "postgres", keyTunnel(SshBastion.openSsh(key)))),
                    "does not let user forward connections", "AllowTcpForwarding yes");
        } finally {
            bastion.refuseForwarding(false);
        }
    }

    /**
     * A capture through the tunnel under concurrent writes; the bastion drops every session mid-stream. The run ends
     * with a transient error, and the next run, through a new session, resumes from the last state: the destination
     * then equals the source.
     */
    @Test
    void aCaptureThroughTheTunnelSurvivesTheBastionDroppingItMidStream(PostgresCluster pg) throws Exception {
        CaptureFixture f = new CaptureFixture(pg);
        Destination destination = new Destination(pg, pg.createDatabase("dest"));
        MixedWorkload.captureInto(f, destination);
        f.config().remove("connectionURI");
        f.config().setAll(airbyteConfig(pg.port(), f.database, "postgres", keyTunnel(SshBastion.openSsh(key))));
        f.config().put("log_level", "INFO");
        f.config().put("status_interval_seconds", 1);
        Orchestrator orchestrator = new Orchestrator(f, destination, MixedWorkload.keyColumns());
        MixedWorkload workload = new MixedWorkload(pg, f.database);
        try (f) {
            workload.transactions(20, 31);
            long before = bastion.forwardedConnections();
            orchestrator.run(RUN_TIMEOUT);
            assertThat(bastion.forwardedConnections()).as("the run went through the bastion").isGreaterThan(before);
            orchestrator.assertDestinationEqualsSource(TABLES);

            try (MixedWorkload.Writers writers = workload.startWriters(2, 32, 2)) {
                f.config().put("tail", true);
                try (ConnectorProcess p = orchestrator.start()) {
                    // Cut once the writers' changes are flowing through the tunnel: a good number of records out.
                    java.util.concurrent.atomic.AtomicInteger records = new java.util.concurrent.atomic.AtomicInteger();
                    p.await(m -> m.path("type").asText().equals("RECORD") && records.incrementAndGet() >= 20,
                            RUN_TIMEOUT, "20 RECORDs");
                    bastion.cutAll();
                    ConnectorRun failed = p.finish(Duration.ofSeconds(90));
                    assertThat(failed.exitCode()).as(failed.toString()).isNotZero();
                    assertThat(failed.error().get("failure_type").asText()).as(failed.toString())
                            .isEqualTo("transient_error");
                    orchestrator.accept(failed);
                }
                writers.stop();
            }
            f.config().put("tail", false);
            orchestrator.run(RUN_TIMEOUT);
            orchestrator.assertDestinationEqualsSource(TABLES);
        }
    }

    /**
     * A bastion that goes silent without closing anything (a partition between connector and bastion) is detected
     * like a silent server: the run ends with a transient error in bounded time, and does not hang on exit.
     */
    @Test
    void aSilentBastionEndsTheRunWithATransientError(PostgresCluster pg) throws Exception {
        CaptureFixture f = new CaptureFixture(pg);
        Destination destination = new Destination(pg, pg.createDatabase("dest"));
        MixedWorkload.captureInto(f, destination);
        try (f; FaultProxy proxy = FaultProxy.to(bastion.port())) {
            ObjectNode tunnel = keyTunnel(SshBastion.openSsh(key));
            tunnel.put("tunnel_port", proxy.port());
            f.config().remove("connectionURI");
            f.config().setAll(airbyteConfig(pg.port(), f.database, "postgres", tunnel));
            f.config().put("log_level", "INFO");
            f.config().put("status_interval_seconds", 1);
            f.config().put("statement_timeout_seconds", 5);
            Orchestrator orchestrator = new Orchestrator(f, destination, MixedWorkload.keyColumns());
            MixedWorkload workload = new MixedWorkload(pg, f.database);
            orchestrator.run(RUN_TIMEOUT);
            workload.transactions(10, 41);
            f.config().put("tail", true);
            try (ConnectorProcess p = orchestrator.start()) {
                p.await(m -> m.path("type").asText().equals("RECORD"), RUN_TIMEOUT, "RECORD");
                proxy.stall();
                workload.transactions(10, 42);
                ConnectorRun failed = p.finish(Duration.ofSeconds(150)); // a run still going then fails as a hang
                assertThat(failed.exitCode()).as(failed.toString()).isNotZero();
                assertThat(failed.error().get("failure_type").asText()).as(failed.toString()).isEqualTo("transient_error");
                orchestrator.accept(failed);
            }
            proxy.resume();
            f.config().put("tail", false);
            orchestrator.run(RUN_TIMEOUT);
            orchestrator.assertDestinationEqualsSource(TABLES);
        }
    }

    /**
     * Done means this: an Airbyte-shaped config with inline PEM (CA, client certificate and key) and a key-logged-in
     * tunnel captures from a server that accepts only TLS. The database is reached as "localhost", the name in its
     * certificate, from the bastion's side, so verify-full checks the real name and not the tunnel's 127.0.0.1.
     */
    @Test
    void aTlsOnlyServerThroughTheTunnelWithInlinePem() throws Exception {
        try (TlsCluster tls = TlsCluster.start()) {
            String db = tls.database();
            Issued client = tls.pki().client("tunnel-client", TlsCluster.CERT_USER, false);
            String ca = Files.readString(tls.pki().caCertificate());
            String cert = Files.readString(client.certificate());
            String clientKey = Files.readString(client.key());
            String sshKey = SshBastion.openSsh(key);
            ObjectNode config = airbyteConfig(tls.cluster().port(), db, TlsCluster.CERT_USER, keyTunnel(sshKey));
            config.put("host", "localhost");
            config.putObject("ssl_mode").put("mode", "verify-full").put("ca_certificate", ca)
                    .put("client_certificate", cert).put("client_key", clientKey);
            config.putObject("replication_method").put("method", "CDC").put("replication_slot", "tunnel_tls_slot")
                    .put("publication", "flow_publication").put("plugin", "pgoutput").put("queue_size", 10000);
            tls.cluster().execute(db, "INSERT INTO orders SELECT generate_series(1, 25)");

            ConnectorRun check = check(config, sshKey, clientKey);
            assertThat(check.connectionStatus().get("status").asText()).as(check.toString()).isEqualTo("SUCCEEDED");

            ObjectNode catalog = MAPPER.createObjectNode();
            ObjectNode stream = catalog.putArray("streams").addObject();
            stream.putObject("stream").put("name", "orders").put("namespace", "public")
                    .putArray("supported_sync_modes").add("incremental");
            stream.put("sync_mode", "incremental").put("destination_sync_mode", "append_dedup");
            try {
                ConnectorRun read = Connector.launch(120, "read", "--config", Connector.file(config).toString(),
                        "--catalog", Connector.file(catalog).toString());
                assertNoSecret(read, sshKey, clientKey);
                assertThat(read.exitCode()).as(read.toString()).isZero();
                assertThat(read.records()).hasSize(25);
            } finally {
                tls.cluster().execute("postgres", "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
                        + " WHERE slot_name = 'tunnel_tls_slot'");
            }
        }
    }

    static void assertFailed(ConnectorRun run, String... parts) {
        JsonNode status = run.connectionStatus();
        assertThat(status.get("status").asText()).as(run.toString()).isEqualTo("FAILED");
        for (String part : parts) {
            assertThat(status.get("message").asText()).as(run.toString()).contains(part);
        }
    }

    /** No byte of a secret in stdout or stderr: neither the whole text nor any line of a key. */
    static void assertNoSecret(ConnectorRun run, String... secrets) {
        String all = run.stdout() + "\n" + run.stderr();
        for (String secret : secrets) {
            assertThat(all).as("secret in output").doesNotContain(secret);
            for (String line : secret.split("\n")) {
                if (line.length() >= 16 && !line.startsWith("-----")) {
                    assertThat(all).as("a line of a key in output").doesNotContain(line);
                }
            }
        }
    }
}
