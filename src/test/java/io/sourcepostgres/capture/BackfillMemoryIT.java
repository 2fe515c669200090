package io.sourcepostgres.capture;

import static org.assertj.core.api.Assertions.assertThat;

import io.sourcepostgres.testing.CaptureFixture;
import io.sourcepostgres.testing.ConnectorProcess;
import io.sourcepostgres.testing.ConnectorRun;
import io.sourcepostgres.testing.PostgresCluster;
import io.sourcepostgres.testing.PostgresExtension;
import java.time.Duration;
import java.util.BitSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A backfill's memory is bounded by {@code backfill_chunk_bytes}, read-ahead included: a table of 1 MB rows,
 * five times the size of the heap, backfills through the real launcher in a 96 MB heap with 12 MB chunks.
 * Reading ahead more than one chunk, or holding a chunk's COPY data twice, would not fit.
 */
@ExtendWith(PostgresExtension.class)
class BackfillMemoryIT {
    private static final int ROWS = 480;
    private static final int ROW_MB = 1;
    private static final String JAVA_OPTS = "-Xms96m -Xmx96m -XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError";

    @Test
    void wideRowsBackfillWithinAHeapOfEightChunks(PostgresCluster pg) {
        try (CaptureFixture f = new CaptureFixture(pg)) {
            // Each row is 1 MB of text output (stored compressed: the server keeps little of it).
            f.sql("CREATE TABLE wide (id int PRIMARY KEY, body text NOT NULL)",
                    "INSERT INTO wide SELECT g, repeat(md5(g::text), " + (ROW_MB << 20) / 32 + ") FROM generate_series(1, "
                            + ROWS + ") g");
            f.capture("public", "wide");
            f.config().put("backfill_chunk_bytes", 12 << 20);
            BitSet seen = new BitSet();
            long[] records = {0};
            try (ConnectorProcess p = ConnectorProcess.builder(f.args())
                    .env("SOURCE_POSTGRES_JAVA_OPTS", JAVA_OPTS)
                    .onLine(line -> {
                        if (line.startsWith("{\"type\":\"RECORD\"")) {
                            int at = line.indexOf("\"data\":{\"id\":") + 13;
                            int end = at;
                            while (Character.isDigit(line.charAt(end))) {
                                end++;
                            }
                            seen.set(Integer.parseInt(line.substring(at, end)));
                            records[0]++;
                        }
                    })
                    .start()) {
                ConnectorRun run = p.finish(Duration.ofMinutes(5));
                assertThat(run.exitCode()).as(run.stderr()).isZero();
                assertThat(records[0]).isEqualTo(ROWS);
                assertThat(seen.cardinality()).isEqualTo(ROWS);
            }
        }
    }
}
