package io.sourcepostgres.bench;

import io.debezium.engine.ChangeEvent;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.format.Json;
import java.nio.charset.StandardCharsets;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Debezium's embedded engine on the benchmark's server, for the same figures bench/run takes of the connector:
 * a snapshot of a table, or the backlog waiting in an existing slot. Records go through Debezium's JSON
 * converter (schemas off, as the connector's records carry none) and the consumer takes each serialised
 * value, as a consumer writing them out would. It stops once it has seen the expected number of records.
 *
 * <pre>DebeziumBench snapshot|stream HOST PORT DATABASE SLOT PUBLICATION TABLES EXPECTED OFFSETS_FILE</pre>
 *
 * Prints on stderr: {@code debezium records=N bytes=N seconds=S} (seconds from engine start to the last record).
 */
public final class DebeziumBench {
    public static void main(String[] args) throws Exception {
        String mode = args[0];
        long expected = Long.parseLong(args[7]);

        Properties p = new Properties();
        p.setProperty("name", "bench");
        p.setProperty("connector.class", "io.debezium.connector.postgresql.PostgresConnector");
        p.setProperty("offset.storage", "org.apache.kafka.connect.storage.FileOffsetBackingStore");
        p.setProperty("offset.storage.file.filename", args[8]);
        p.setProperty("offset.flush.interval.ms", "10000");
        p.setProperty("database.hostname", args[1]);
        p.setProperty("database.port", args[2]);
        p.setProperty("database.user", "postgres");
        p.setProperty("database.password", "");
        p.setProperty("database.dbname", args[3]);
        p.setProperty("topic.prefix", "bench");
        p.setProperty("plugin.name", "pgoutput");
        p.setProperty("slot.name", args[4]);
        p.setProperty("publication.name", args[5]);
        p.setProperty("publication.autocreate.mode", "disabled");
        p.setProperty("table.include.list", args[6]);
        // "stream": the slot was created before the backlog was written; read it, take no snapshot.
        p.setProperty("snapshot.mode", mode.equals("snapshot") ? "initial" : "no_data");
        p.setProperty("key.converter.schemas.enable", "false");
        p.setProperty("value.converter.schemas.enable", "false");

        AtomicLong records = new AtomicLong();
        AtomicLong bytes = new AtomicLong();
        CountDownLatch done = new CountDownLatch(1);
        long[] lastNanos = new long[1];
        long start = System.nanoTime();
        DebeziumEngine<ChangeEvent<String, String>> engine = DebeziumEngine.create(Json.class)
                .using(p)
                .notifying(event -> {
                    String value = event.value();
                    if (value == null) {
                        return; // a tombstone
                    }
                    bytes.addAndGet(value.getBytes(StandardCharsets.UTF_8).length);
                    if (records.incrementAndGet() == expected) {
                        lastNanos[0] = System.nanoTime();
                        done.countDown();
                    }
                })
                .using((success, message, error) -> {
                    if (!success || records.get() < expected) {
                        System.err.println("debezium engine stopped early: " + message);
                        if (error != null) {
                            error.printStackTrace();
                        }
                    }
                    done.countDown();
                })
                .build();
        ExecutorService executor = Executors.newSingleThreadExecutor();
        executor.execute(engine);
        done.await();
        System.err.printf(java.util.Locale.ROOT, "debezium records=%d bytes=%d seconds=%.3f%n",
                records.get(), bytes.get(), lastNanos[0] == 0 ? Double.NaN : (lastNanos[0] - start) / 1e9);
        try {
            engine.close();
        } catch (IllegalStateException alreadyStopped) {
            // it stopped by itself (a failure, reported above)
        }
        executor.shutdownNow();
        System.exit(records.get() >= expected ? 0 : 1);
    }
}
