package io.sourcepostgres.backfill;

import io.sourcepostgres.airbyte.LogSink;
import io.sourcepostgres.airbyte.StreamId;
import java.sql.Connection;
import java.sql.SQLException;

/** {@link MergeFences} on the query connection the capture thread uses. */
final class JdbcMergeFences implements MergeFences {
    private final Connection connection;
    private final LogSink out;

    JdbcMergeFences(Connection connection, LogSink out) {
        this.connection = connection;
        this.out = out;
    }

    @Override
    public long writeFence() throws SQLException {
        return WalFence.emit(connection);
    }

    @Override
    public boolean writersEnded(TableWriters writers, StreamId stream) {
        return writers.finished(connection, stream, out);
    }

    @Override
    public KeylessStart keylessCut(int serverMajorVersion) {
        return KeylessStart.take(connection, serverMajorVersion);
    }
}
