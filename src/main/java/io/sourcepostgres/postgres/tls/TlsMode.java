package io.sourcepostgres.postgres.tls;

import java.util.Locale;

/** libpq's {@code sslmode}: whether TLS is used, and how much of the server's certificate is verified. */
public enum TlsMode {
    /** Never TLS. */
    DISABLE,
    /** Plain first; TLS only when the server refuses plain (pg_hba.conf {@code hostssl}). */
    ALLOW,
    /** TLS when the server offers it, plain otherwise. libpq's default. */
    PREFER,
    /** Always TLS; the certificate chain is verified only when a root certificate file is present. */
    REQUIRE,
    /** Always TLS; the server's certificate must chain to a CA in sslrootcert. */
    VERIFY_CA,
    /** Always TLS; as VERIFY_CA, and the certificate must name the host connected to. */
    VERIFY_FULL;

    public static TlsMode parse(String sslmode) {
        return valueOf(sslmode.toUpperCase(Locale.ROOT).replace('-', '_'));
    }

    /** The name libpq and pgjdbc use. */
    public String wireName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** True when a server certificate that does not chain to a trusted CA must end the connection. */
    public boolean requiresVerifiedCertificate() {
        return this == VERIFY_CA || this == VERIFY_FULL;
    }

    public boolean verifiesHostName() {
        return this == VERIFY_FULL;
    }
}
