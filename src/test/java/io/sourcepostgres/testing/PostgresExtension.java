package io.sourcepostgres.testing;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Gives tests the shared cluster of the version under test ({@code -Dpg.version}), started on first use
 * and stopped when the test JVM is done. Tests that need a differently configured server start their own
 * with {@link PostgresCluster#start(PostgresCluster.Options)} in one line.
 */
public final class PostgresExtension implements ParameterResolver {
    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(PostgresExtension.class);

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == PostgresCluster.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        return context.getRoot().getStore(NAMESPACE)
                .getOrComputeIfAbsent("shared", key -> new Shared(PostgresCluster.start()), Shared.class)
                .cluster;
    }

    /** Closed by JUnit when the root context closes, i.e. after the last test of the JVM. */
    private record Shared(PostgresCluster cluster) implements ExtensionContext.Store.CloseableResource, AutoCloseable {
        @Override
        public void close() {
            cluster.close();
        }
    }
}
