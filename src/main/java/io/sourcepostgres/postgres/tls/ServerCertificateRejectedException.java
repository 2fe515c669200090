package io.sourcepostgres.postgres.tls;

import java.security.cert.CertificateException;

/**
 * The server's certificate failed the verification sslmode asked for. Its message is written for the user
 * (what was wrong and how to fix it); the TLS stack carries it inside the handshake failure, where
 * {@code ConnectFailures} finds it.
 */
public final class ServerCertificateRejectedException extends CertificateException {
    private static final long serialVersionUID = 1L;

    ServerCertificateRejectedException(String message, Throwable cause) {
        super(message, cause);
    }
}
