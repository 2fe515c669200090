package io.sourcepostgres.postgres.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.sourcepostgres.testing.TestPki;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** libpq's verify-full host name rule, on certificates as openssl issues them. */
class HostNamesTest {
    private static TestPki pki;

    @BeforeAll
    static void makePki() {
        pki = TestPki.create();
    }

    @Test
    void dnsNamesMatchCaseInsensitivelyAndOnlyThoseListed() {
        X509Certificate cert = cert("dns", "db.example.com", "DNS:db.example.com", "DNS:replica.example.com");
        assertThat(HostNames.matches(cert, "db.example.com")).isTrue();
        assertThat(HostNames.matches(cert, "DB.Example.COM")).isTrue();
        assertThat(HostNames.matches(cert, "replica.example.com")).isTrue();
        assertThat(HostNames.matches(cert, "other.example.com")).isFalse();
        assertThat(HostNames.matches(cert, "example.com")).isFalse();
    }

    @Test
    void wildcardStandsForExactlyOneLeftmostLabel() {
        X509Certificate cert = cert("wild", "ignored", "DNS:*.db.example.com");
        assertThat(HostNames.matches(cert, "eu1.db.example.com")).isTrue();
        assertThat(HostNames.matches(cert, "a.eu1.db.example.com")).isFalse();
        assertThat(HostNames.matches(cert, "db.example.com")).isFalse();
    }

    @Test
    void ipAddressesMatchIpEntriesOnly() {
        X509Certificate cert = cert("ip", "localhost", "DNS:localhost", "IP:127.0.0.1", "IP:::1");
        assertThat(HostNames.matches(cert, "127.0.0.1")).isTrue();
        assertThat(HostNames.matches(cert, "::1")).isTrue();
        assertThat(HostNames.matches(cert, "0:0:0:0:0:0:0:1")).isTrue();
        assertThat(HostNames.matches(cert, "127.0.0.2")).isFalse();
        assertThat(HostNames.matches(cert, "localhost")).isTrue();
    }

    @Test
    void commonNameCountsOnlyWithoutAltNamesOfTheHostsKind() {
        X509Certificate cnOnly = cert("cn-only", "db.example.com");
        assertThat(HostNames.matches(cnOnly, "db.example.com")).isTrue();
        assertThat(HostNames.matches(cnOnly, "other.example.com")).isFalse();

        X509Certificate sanAndCn = cert("san-and-cn", "legacy.example.com", "DNS:db.example.com");
        assertThat(HostNames.matches(sanAndCn, "legacy.example.com")).as("CN ignored beside a dNSName").isFalse();

        // libpq: a host given as an IP address is compared with the CN when the certificate lists no IP address.
        X509Certificate ipInCn = cert("ip-in-cn", "127.0.0.1", "DNS:localhost");
        assertThat(HostNames.matches(ipInCn, "127.0.0.1")).isTrue();
    }

    @Test
    void namesListWhatTheCertificateNames() {
        X509Certificate cert = cert("names", "localhost", "DNS:localhost", "IP:127.0.0.1");
        assertThat(HostNames.names(cert)).containsExactly("DNS:localhost", "IP:127.0.0.1", "CN=localhost");
    }

    private static X509Certificate cert(String name, String cn, String... sans) {
        Path file = pki.server(name, cn, sans).certificate();
        return TlsFiles.certificates(file, "sslcert").get(0);
    }
}
