package io.sourcepostgres.discovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sourcepostgres.airbyte.ConnectorException;
import io.sourcepostgres.airbyte.FailureType;
import io.sourcepostgres.airbyte.StreamId;
import io.sourcepostgres.testing.PostgresCluster;
import io.sourcepostgres.testing.PostgresExtension;
import io.sourcepostgres.values.PgType;
import io.sourcepostgres.values.TypeFamily;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.postgresql.core.BaseConnection;
import org.postgresql.core.TransactionState;

/** The catalog snapshot as read will use it: resolved column types, keys, partitions and publication facts. */
@ExtendWith(PostgresExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TableCatalogIT {
    private static final StreamId ITEMS = new StreamId("public", "items");
    private static final StreamId MEASUREMENTS = new StreamId("public", "measurements");
    private static final StreamId ODD = new StreamId("Odd \"schema\"", "Odd \"table\"");

    private PostgresCluster pg;
    private String database;

    @BeforeAll
    void createTheDatabase(PostgresCluster pg) {
        this.pg = pg;
        database = pg.createDatabase("catalog");
        pg.execute(database,
                "CREATE TYPE status AS ENUM ('new', 'done')",
                "ALTER TYPE status ADD VALUE 'started' BEFORE 'done'",
                "CREATE DOMAIN code AS varchar(8)",
                "CREATE DOMAIN short_code AS code",
                "CREATE TABLE items (name text NOT NULL, id bigint NOT NULL, state status, tags short_code[], "
                        + "grid numeric(10,2)[][], price numeric(12,0), total numeric GENERATED ALWAYS AS (price * 2) STORED, "
                        + "PRIMARY KEY (id, name))",
                "ALTER TABLE items REPLICA IDENTITY FULL",
                "CREATE UNLOGGED TABLE scratch (id int PRIMARY KEY)",
                "CREATE SCHEMA \"Odd \"\"schema\"\"\"",
                "CREATE TABLE \"Odd \"\"schema\"\"\".\"Odd \"\"table\"\"\" (id int PRIMARY KEY)",
                "CREATE TABLE measurements (id int, region text, at date, PRIMARY KEY (id, region, at)) "
                        + "PARTITION BY LIST (region)",
                "CREATE TABLE measurements_eu PARTITION OF measurements FOR VALUES IN ('eu') PARTITION BY RANGE (at)",
                "CREATE TABLE measurements_eu_2025 PARTITION OF measurements_eu FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')",
                "CREATE TABLE measurements_us PARTITION OF measurements FOR VALUES IN ('us')",
                "CREATE PUBLICATION partial FOR TABLE items, measurements_eu_2025",
                "CREATE PUBLICATION everything FOR ALL TABLES");
        if (pg.majorVersion() >= 13) {
            pg.execute(database,
                    "CREATE PUBLICATION via_root FOR TABLE measurements WITH (publish_via_partition_root = true)");
        }
    }

    private TableCatalog read(String publication) throws Exception {
        try (Connection c = pg.connect(database)) {
            return TableCatalog.read(c, publication);
        }
    }

    @Test
    void columnsCarryTheirResolvedTypesTypmodsAndFlagsInAttnumOrder() throws Exception {
        DiscoveredTable items = read("partial").table(ITEMS).orElseThrow();
        assertThat(items.columns()).extracting(ColumnInfo::name)
                .containsExactly("name", "id", "state", "tags", "grid", "price", "total");
        assertThat(items.primaryKey()).containsExactly("id", "name");
        assertThat(items.replicaIdentity()).isEqualTo('f');
        assertThat(items.relkind()).isEqualTo('r');

        ColumnInfo name = items.column("name").orElseThrow();
        assertThat(name.notNull()).isTrue();
        assertThat(name.type().name()).isEqualTo("text");
        assertThat(name.family()).isEqualTo(TypeFamily.TEXT);

        PgType state = items.column("state").orElseThrow().type();
        assertThat(state.isEnum()).isTrue();
        assertThat(state.enumLabels()).containsExactly("new", "started", "done");

        ColumnInfo tags = items.column("tags").orElseThrow();
        assertThat(tags.family()).isEqualTo(TypeFamily.ARRAY);
        PgType element = tags.type().element();
        assertThat(element.name()).isEqualTo("short_code");
        assertThat(element.base().name()).isEqualTo("code");
        assertThat(element.base().domainTypmod()).isEqualTo(8 + 4);
        assertThat(element.withoutDomains().name()).isEqualTo("varchar");
        assertThat(element.effectiveTypmod(tags.typmod())).isEqualTo(12);

        ColumnInfo grid = items.column("grid").orElseThrow();
        assertThat(grid.dimensions()).isEqualTo(2);
        assertThat(grid.typmod()).isEqualTo(((10 << 16) | 2) + 4);
        assertThat(grid.type().element().name()).isEqualTo("numeric");
        assertThat(grid.type().element().namespace()).isEqualTo("pg_catalog");

        ColumnInfo total = items.column("total").orElseThrow();
        assertThat(total.generated()).isTrue();
        assertThat(items.column("price").orElseThrow().generated()).isFalse();
        assertThat(items.column("id").orElseThrow().attnum()).isEqualTo(2);
    }

    @Test
    void aPartitionedTableKnowsAllItsPartitionsAndEachRelationMapsToItsStream() throws Exception {
        TableCatalog catalog = read("partial");
        DiscoveredTable measurements = catalog.table(MEASUREMENTS).orElseThrow();
        assertThat(measurements.isPartitioned()).isTrue();
        assertThat(measurements.partitions()).extracting(p -> p.id().name(), Partition::leaf)
                .containsExactlyInAnyOrder(
                        org.assertj.core.groups.Tuple.tuple("measurements_eu", false),
                        org.assertj.core.groups.Tuple.tuple("measurements_us", true),
                        org.assertj.core.groups.Tuple.tuple("measurements_eu_2025", true));
        assertThat(catalog.table(new StreamId("public", "measurements_us"))).isEmpty();
        for (Partition p : measurements.partitions()) {
            assertThat(catalog.tableOfRelation(p.oid())).contains(measurements);
        }
        assertThat(catalog.tableOfRelation(measurements.oid())).contains(measurements);
        assertThat(catalog.tableOfRelation(1)).isEmpty();
    }

    @Test
    void aPartitionedTableIsInThePublicationOnlyWhenAllItsLeavesAre() throws Exception {
        DiscoveredTable partial = read("partial").table(MEASUREMENTS).orElseThrow();
        assertThat(partial.inPublication()).isFalse();
        assertThat(partial.unpublishedPartitions()).extracting(p -> p.id().name()).containsExactly("measurements_us");

        DiscoveredTable everything = read("everything").table(MEASUREMENTS).orElseThrow();
        assertThat(everything.inPublication()).isTrue();
        assertThat(everything.unpublishedPartitions()).isEmpty();
    }

    @Test
    void publishViaPartitionRootPublishesEveryPartitionAsTheRoot() throws Exception {
        if (pg.majorVersion() < 13) {
            // PostgreSQL 12 has no publish_via_partition_root and cannot publish a partitioned table.
            assertThat(read("everything").publication().viaPartitionRoot()).isFalse();
            return;
        }
        TableCatalog catalog = read("via_root");
        assertThat(catalog.publication()).isEqualTo(new PublicationInfo("via_root", true, false, true));
        DiscoveredTable measurements = catalog.table(MEASUREMENTS).orElseThrow();
        assertThat(measurements.inPublication()).isTrue();
        assertThat(measurements.partitions()).allMatch(Partition::inPublication);
        assertThat(catalog.table(ITEMS).orElseThrow().inPublication()).isFalse();
    }

    @Test
    void publicationFactsAndMembership() throws Exception {
        TableCatalog partial = read("partial");
        assertThat(partial.publication()).isEqualTo(new PublicationInfo("partial", true, false, false));
        assertThat(partial.table(ITEMS).orElseThrow().inPublication()).isTrue();
        assertThat(partial.table(ODD).orElseThrow().inPublication()).isFalse();

        TableCatalog everything = read("everything");
        assertThat(everything.publication().allTables()).isTrue();
        assertThat(everything.table(ODD).orElseThrow().inPublication()).isTrue();
        DiscoveredTable scratch = everything.table(new StreamId("public", "scratch")).orElseThrow();
        assertThat(scratch.isUnlogged()).isTrue();
        assertThat(scratch.inPublication()).isFalse(); // unlogged tables are never published

        TableCatalog missing = read("no_such_publication");
        assertThat(missing.publication().exists()).isFalse();
        assertThat(missing.tables()).noneMatch(DiscoveredTable::inPublication);
    }

    @Test
    void readingOnlySomeStreamsReadsJustThose() throws Exception {
        try (Connection c = pg.connect(database)) {
            TableCatalog some = TableCatalog.read(c, "partial",
                    List.of(ODD, MEASUREMENTS, new StreamId("public", "does_not_exist")));
            assertThat(some.tables()).extracting(DiscoveredTable::id).containsExactly(ODD, MEASUREMENTS);
            assertThat(some.table(MEASUREMENTS).orElseThrow().partitions()).hasSize(3);
            assertThat(some.table(ODD).orElseThrow().primaryKey()).containsExactly("id");
        }
    }

    @Test
    void theConnectionIsLeftAsItWasFound() throws Exception {
        try (Connection c = pg.connect(database)) {
            TableCatalog catalog = TableCatalog.read(c, "partial");
            assertThat(catalog.user()).isEqualTo("postgres");
            assertThat(catalog.serverMajorVersion()).isEqualTo(pg.majorVersion());
            assertThat(c.getAutoCommit()).isTrue();
            assertThat(c.getTransactionIsolation()).isEqualTo(Connection.TRANSACTION_READ_COMMITTED);
            assertThat(c.unwrap(BaseConnection.class).getTransactionState()).as("no transaction left open")
                    .isEqualTo(TransactionState.IDLE);
        }
    }

    @Test
    void insideTheCallersTransactionTheCatalogSharesItsSnapshotAndLeavesItOpen() throws Exception {
        try (Connection c = pg.connect(database)) {
            c.setAutoCommit(false);
            c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
            try (var st = c.createStatement()) {
                st.execute("CREATE TABLE not_yet_committed (id int PRIMARY KEY)");
            }
            TableCatalog catalog = TableCatalog.read(c, "partial");
            assertThat(catalog.table(new StreamId("public", "not_yet_committed"))).isPresent();
            assertThat(c.unwrap(BaseConnection.class).getTransactionState()).isEqualTo(TransactionState.OPEN);
            c.rollback();
        }
    }

    @Test
    void aLostConnectionIsATransientErrorThatSaysToRetry() throws Exception {
        Connection c = pg.connect(database);
        c.close();
        assertThatThrownBy(() -> TableCatalog.read(c, "partial"))
                .isInstanceOfSatisfying(ConnectorException.class,
                        e -> assertThat(e.failureType()).isEqualTo(FailureType.TRANSIENT_ERROR))
                .hasMessageStartingWith("Reading the table catalog failed:").hasMessageContaining("retry");
    }

    @Test
    void aDatabaseWithThousandsOfTablesIsReadInAsManyStatementsAsASmallOne() throws Exception {
        String many = pg.createDatabase("many");
        pg.execute(many, "DO $$ BEGIN FOR i IN 1..2000 LOOP "
                + "EXECUTE format('CREATE TABLE %I (id int PRIMARY KEY, name text, at timestamptz, tags text[])', 't' || i); "
                + "END LOOP; END $$",
                "CREATE TABLE parted (id int PRIMARY KEY) PARTITION BY HASH (id)",
                "CREATE TABLE parted_0 PARTITION OF parted FOR VALUES WITH (MODULUS 2, REMAINDER 0)",
                "CREATE TABLE parted_1 PARTITION OF parted FOR VALUES WITH (MODULUS 2, REMAINDER 1)",
                "CREATE PUBLICATION flow_publication FOR ALL TABLES");
        AtomicInteger large = new AtomicInteger();
        try (Connection c = pg.connect(many)) {
            TableCatalog catalog = TableCatalog.read(countingStatements(c, large), "flow_publication");
            assertThat(catalog.tables()).hasSize(2001).allMatch(DiscoveredTable::inPublication)
                    .filteredOn(t -> !t.isPartitioned())
                    .allMatch(t -> t.columns().size() == 4 && t.primaryKey().equals(List.of("id")));
        }
        AtomicInteger small = new AtomicInteger();
        try (Connection c = pg.connect(database)) {
            TableCatalog.read(countingStatements(c, small), "partial");
        }
        assertThat(large.get()).isEqualTo(small.get()).isLessThanOrEqualTo(8);
    }

    /** The connection, counting the statements run through it. */
    private static Connection countingStatements(Connection connection, AtomicInteger statements) {
        return (Connection) Proxy.newProxyInstance(Connection.class.getClassLoader(), new Class<?>[] {Connection.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("prepareStatement") || method.getName().equals("createStatement")) {
                        statements.incrementAndGet();
                    }
                    try {
                        return method.invoke(connection, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }
}
