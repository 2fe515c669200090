package io.sourcepostgres.postgres.tls;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;

/**
 * libpq's rule for sslmode=verify-full: the host connected to must be named by the server's certificate.
 * A DNS name matches a subjectAltName dNSName (case-insensitively; {@code *.example.com} stands for exactly one
 * leftmost label); an IP address matches a subjectAltName iPAddress. The subject's CN counts only when the
 * certificate has no subjectAltName of the host's kind, as RFC 6125 and libpq have it.
 */
final class HostNames {
    private static final int DNS = 2;
    private static final int IP = 7;

    private HostNames() {}

    static boolean matches(X509Certificate certificate, String host) {
        boolean hostIsIp = isIpLiteral(host);
        boolean sawSameKind = false;
        for (List<?> san : subjectAltNames(certificate)) {
            int type = (Integer) san.get(0);
            String value = String.valueOf(san.get(1));
            if (type == DNS) {
                sawSameKind |= !hostIsIp;
                if (!hostIsIp && dnsMatches(value, host)) {
                    return true;
                }
            } else if (type == IP) {
                sawSameKind |= hostIsIp;
                if (hostIsIp && sameAddress(value, host)) {
                    return true;
                }
            }
        }
        if (sawSameKind) {
            return false;
        }
        String cn = commonName(certificate);
        return cn != null && (hostIsIp ? sameAddress(cn, host) : dnsMatches(cn, host));
    }

    /** What the certificate names, for the message when it does not name the host. */
    static List<String> names(X509Certificate certificate) {
        List<String> names = new ArrayList<>();
        for (List<?> san : subjectAltNames(certificate)) {
            int type = (Integer) san.get(0);
            if (type == DNS) {
                names.add("DNS:" + san.get(1));
            } else if (type == IP) {
                names.add("IP:" + san.get(1));
            }
        }
        String cn = commonName(certificate);
        if (cn != null) {
            names.add("CN=" + cn);
        }
        return names;
    }

    static boolean dnsMatches(String pattern, String host) {
        String p = stripTrailingDot(pattern).toLowerCase(Locale.ROOT);
        String h = stripTrailingDot(host).toLowerCase(Locale.ROOT);
        if (p.startsWith("*.")) {
            int dot = h.indexOf('.');
            return dot > 0 && h.substring(dot).equals(p.substring(1));
        }
        return p.equals(h);
    }

    static boolean isIpLiteral(String host) {
        return host.contains(":") || host.matches("\\d{1,3}(\\.\\d{1,3}){3}");
    }

    private static boolean sameAddress(String a, String b) {
        if (!isIpLiteral(a) || !isIpLiteral(b)) {
            return false;
        }
        try {
            // Both are literals: no name lookup happens.
            return InetAddress.getByName(a).equals(InetAddress.getByName(b));
        } catch (UnknownHostException e) {
            return false;
        }
    }

    private static String stripTrailingDot(String s) {
        return s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
    }

    private static Collection<List<?>> subjectAltNames(X509Certificate certificate) {
        try {
            Collection<List<?>> sans = certificate.getSubjectAlternativeNames();
            return sans == null ? List.of() : sans;
        } catch (CertificateParsingException e) {
            return List.of();
        }
    }

    private static String commonName(X509Certificate certificate) {
        try {
            LdapName name = new LdapName(certificate.getSubjectX500Principal().getName());
            String cn = null;
            for (Rdn rdn : name.getRdns()) {
                if ("CN".equalsIgnoreCase(rdn.getType())) {
                    cn = String.valueOf(rdn.getValue()); // the most specific CN wins
                }
            }
            return cn;
        } catch (InvalidNameException e) {
            return null;
        }
    }
}
