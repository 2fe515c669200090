package io.sourcepostgres.postgres.tls;

import java.net.Socket;
import java.security.cert.CertPathBuilderException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Decides whether the server's certificate is acceptable, the way libpq does for the given sslmode: with no
 * root certificates (sslmode allow/prefer/require without a root file) anything is accepted, since the
 * connection is then only encrypted, not authenticated; with root certificates the chain must lead to one of
 * them; for verify-full the certificate must also name the host. Every refusal says why and what to change.
 */
final class ServerCertificateTrust extends X509ExtendedTrustManager {
    private final X509ExtendedTrustManager roots;
    private final String rootsDescription;
    private final boolean checkHostName;

    /**
     * @param roots the PKIX trust manager of the root certificates, or null to accept any certificate
     * @param rootsDescription where the roots come from, for messages ("sslrootcert /etc/ssl/ca.crt")
     */
    ServerCertificateTrust(X509ExtendedTrustManager roots, String rootsDescription, boolean checkHostName) {
        this.roots = roots;
        this.rootsDescription = rootsDescription;
        this.checkHostName = checkHostName;
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        if (roots != null) {
            try {
                roots.checkServerTrusted(chain, authType, socket);
            } catch (CertificateException e) {
                throw untrusted(chain, e);
            }
        }
        SSLSession session = socket instanceof SSLSocket s ? s.getHandshakeSession() : null;
        checkHost(chain, session == null ? null : session.getPeerHost());
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        if (roots != null) {
            try {
                roots.checkServerTrusted(chain, authType, engine);
            } catch (CertificateException e) {
                throw untrusted(chain, e);
            }
        }
        checkHost(chain, engine == null ? null : engine.getPeerHost());
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        if (roots != null) {
            try {
                roots.checkServerTrusted(chain, authType);
            } catch (CertificateException e) {
                throw untrusted(chain, e);
            }
        }
        checkHost(chain, null);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        throw new CertificateException("a client does not verify clients");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        throw new CertificateException("a client does not verify clients");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        throw new CertificateException("a client does not verify clients");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return roots == null ? new X509Certificate[0] : roots.getAcceptedIssuers();
    }

    private void checkHost(X509Certificate[] chain, String host) throws CertificateException {
        if (!checkHostName) {
            return;
        }
        if (host == null) {
            throw new ServerCertificateRejectedException("sslmode=verify-full, but the host name connected to is"
                    + " unknown, so the server's certificate cannot be checked against it.", null);
        }
        if (!HostNames.matches(chain[0], host)) {
            throw new ServerCertificateRejectedException("The server's certificate does not name the host '" + host
                    + "' that connectionURI connects to; it names " + String.join(", ", HostNames.names(chain[0]))
                    + ". With sslmode=verify-full the host in connectionURI must be one of the certificate's names:"
                    + " connect using one of them, have the server's certificate reissued with '" + host + "' in its"
                    + " subjectAltName, or use sslmode=verify-ca to verify the CA but not the host name.", null);
        }
    }

    private CertificateException untrusted(X509Certificate[] chain, CertificateException e) {
        String subject = chain.length == 0 ? "(none)" : chain[0].getSubjectX500Principal().getName();
        String issuer = chain.length == 0 ? "(none)" : chain[0].getIssuerX500Principal().getName();
        String why;
        if (causedBy(e, CertificateExpiredException.class)) {
            why = "it, or a certificate in its chain, has expired";
        } else if (causedBy(e, CertificateNotYetValidException.class)) {
            why = "it, or a certificate in its chain, is not valid yet (check the clocks)";
        } else if (causedBy(e, CertPathBuilderException.class)) {
            why = "it was not issued by any CA in " + rootsDescription;
        } else {
            why = "it failed verification against " + rootsDescription + ": " + e.getMessage();
        }
        return new ServerCertificateRejectedException("The server's certificate (subject " + subject + ", issued by "
                + issuer + ") is not trusted: " + why + ". Give sslrootcert the certificate of the CA that issued the"
                + " server's certificate (ask the database's administrator or cloud provider for it), or use"
                + " sslmode=require to encrypt without verifying the server.", e);
    }

    private static boolean causedBy(Throwable t, Class<? extends Throwable> type) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (type.isInstance(c)) {
                return true;
            }
        }
        return false;
    }
}
