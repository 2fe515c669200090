package io.sourcepostgres.postgres.tls;

import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import javax.net.ssl.HostnameVerifier;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * pgjdbc checks the host name again after the handshake for sslmode=verify-full; this makes that check use
 * the same libpq rule as {@link ServerCertificateTrust} did during the handshake, so the two cannot disagree.
 */
public final class LibpqHostnameVerifier implements HostnameVerifier {
    @Override
    public boolean verify(String host, SSLSession session) {
        try {
            Certificate[] chain = session.getPeerCertificates();
            return chain.length > 0 && chain[0] instanceof X509Certificate leaf && HostNames.matches(leaf, host);
        } catch (SSLPeerUnverifiedException e) {
            return false;
        }
    }
}
