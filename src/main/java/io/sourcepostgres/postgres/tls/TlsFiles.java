package io.sourcepostgres.postgres.tls;

import io.sourcepostgres.airbyte.ConnectorException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.List;

/** Reads the files the ssl* parameters name, failing with a config error that names the parameter and the file. */
final class TlsFiles {
    private TlsFiles() {}

    static byte[] read(Path file, String parameter) {
        try {
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw ConnectorException.config(parameter + " file " + file + " does not exist. Check the path in"
                    + " connectionURI (" + parameter + "=...); it is read by the connector's process, so it must exist"
                    + " on the machine or in the container the connector runs in.");
        } catch (AccessDeniedException e) {
            throw ConnectorException.config(parameter + " file " + file + " cannot be read: permission denied. Make it"
                    + " readable by the user the connector runs as.");
        } catch (IOException e) {
            throw ConnectorException.config(parameter + " file " + file + " cannot be read: " + e.getMessage() + ".", e);
        }
    }

    /** Every certificate in a PEM (one or more blocks) or DER file. */
    static List<X509Certificate> certificates(Path file, String parameter) {
        return certificates(read(file, parameter), parameter + " file " + file);
    }

    /** Every certificate in PEM text given inline (the value of sslrootcert or sslcert, or Airbyte's fields). */
    static List<X509Certificate> inlineCertificates(String pem, String parameter) {
        return certificates(pem.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                "The PEM text given inline as " + parameter);
    }

    private static List<X509Certificate> certificates(byte[] bytes, String what) {
        try {
            List<X509Certificate> certs = CertificateFactory.getInstance("X.509")
                    .generateCertificates(new ByteArrayInputStream(bytes)).stream()
                    .map(X509Certificate.class::cast).toList();
            if (certs.isEmpty()) {
                throw ConnectorException.config(what + " holds no certificate: expected PEM"
                        + " blocks BEGIN CERTIFICATE (or one DER certificate).");
            }
            return certs;
        } catch (CertificateException e) {
            throw ConnectorException.config(what + " is not a certificate file (" + e.getMessage()
                    + "): expected PEM blocks BEGIN CERTIFICATE (or one DER certificate).", e);
        }
    }
}
