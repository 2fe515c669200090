package io.sourcepostgres.postgres.tls;

import java.util.Properties;
import org.postgresql.ssl.WrappedFactory;

/**
 * What pgjdbc makes every TLS socket with (its {@code sslfactory}), for the query and the replication
 * connection alike: instantiated by pgjdbc by name for each connection, from the properties that
 * {@link TlsSettings#applyTo} wrote, so the files are read again on each connection as libpq does.
 */
public final class TlsSocketFactory extends WrappedFactory {
    public TlsSocketFactory(Properties info) {
        factory = TlsSettings.fromDriverProperties(info).sslContext().getSocketFactory();
    }
}
