package io.sourcepostgres.postgres.tls;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * Offers the one client certificate whenever the server asks for one, as libpq does. Java's own key managers
 * offer a certificate only when its issuer is among the CAs the server lists, and would silently send none
 * when the server's ssl_ca_file holds an intermediate or another CA; the server's refusal is the clearer error.
 */
final class ClientKeyManager extends X509ExtendedKeyManager {
    private static final String ALIAS = "client";
    private final ClientIdentity identity;

    ClientKeyManager(ClientIdentity identity) {
        this.identity = identity;
    }

    @Override
    public String chooseClientAlias(String[] keyTypes, Principal[] issuers, Socket socket) {
        return fits(keyTypes) ? ALIAS : null;
    }

    @Override
    public String chooseEngineClientAlias(String[] keyTypes, Principal[] issuers, SSLEngine engine) {
        return fits(keyTypes) ? ALIAS : null;
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
        return fits(new String[] {keyType}) ? new String[] {ALIAS} : null;
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
        return ALIAS.equals(alias) ? identity.chain().clone() : null;
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
        return ALIAS.equals(alias) ? identity.key() : null;
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
        return null;
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
        return null;
    }

    /** The TLS stack asks once per key type it could use; answer only for the type of our key. */
    private boolean fits(String[] keyTypes) {
        String ours = identity.key().getAlgorithm();
        return keyTypes == null || Arrays.stream(keyTypes).anyMatch(t -> t.equalsIgnoreCase(ours)
                || ("EdDSA".equals(ours) && t.startsWith("Ed")));
    }
}
