package io.sourcepostgres.discovery;

import static org.assertj.core.api.Assertions.assertThat;

import io.sourcepostgres.airbyte.StreamId;
import io.sourcepostgres.values.PgType;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The wording of the notes in branches the integration tests cannot reach on every server version. */
class TableNotesTest {
    private static final PublicationInfo PUBLICATION = new PublicationInfo("flow_publication", true, false, false);
    private static final PgType INT4 = PgType.builtin(23, "int4", 'N');

    private static DiscoveredTable partitioned(List<Partition> partitions) {
        return new DiscoveredTable(new StreamId("public", "events"), 1, 'p', 'p', 'd',
                List.of(new ColumnInfo("id", 1, INT4, -1, 0, true, false)), List.of("id"), true, true, false, partitions);
    }

    private static List<String> notes(int serverMajor, DiscoveredTable table) {
        TableCatalog catalog = new TableCatalog(List.of(table), PUBLICATION, "capture", serverMajor);
        return new TableNotes(catalog, true).of(table);
    }

    @Test
    void onPostgres12TheFixNamesEachMissingPartitionAndStopsAfterTwenty() {
        List<Partition> partitions = new ArrayList<>();
        partitions.add(new Partition(new StreamId("public", "events_p0"), 100, true, true));
        IntStream.rangeClosed(1, 25).forEach(i ->
                partitions.add(new Partition(new StreamId("public", "events_p" + i), 100 + i, true, false)));
        String note = notes(12, partitioned(partitions)).get(0);
        assertThat(note).startsWith("Partitions \"public\".\"events_p1\", \"public\".\"events_p2\"")
                .contains("\"public\".\"events_p20\" (and 5 more) of this table are not in publication")
                .contains("PostgreSQL 12 publishes partitions, not partitioned tables: run ALTER PUBLICATION "
                        + "\"flow_publication\" ADD TABLE \"public\".\"events_p1\"")
                .doesNotContain("events_p0", "events_p21");
        assertThat(notes(13, partitioned(partitions)).get(0))
                .endsWith("Run ALTER PUBLICATION \"flow_publication\" ADD TABLE \"public\".\"events\";");
    }

    @Test
    void aPartitionedTableWithoutPartitionsOnPostgres12IsToldToAddThemOnceTheyExist() {
        assertThat(notes(12, partitioned(List.of()))).containsExactly("Not in publication \"flow_publication\": its "
                + "changes are not captured. PostgreSQL 12 publishes partitions, not partitioned tables: add its "
                + "partitions once they exist, with ALTER PUBLICATION \"flow_publication\" ADD TABLE <partition>;");
    }

    @Test
    void severalColumnsNamedLikeCdcFieldsAreNamedTogether() {
        DiscoveredTable table = new DiscoveredTable(new StreamId("public", "t"), 1, 'r', 'p', 'd', List.of(
                new ColumnInfo("_ab_cdc_lsn", 1, INT4, -1, 0, true, false),
                new ColumnInfo("_ab_cdc_deleted_at", 2, INT4, -1, 0, true, false)), List.of("_ab_cdc_lsn"),
                true, true, true, List.of());
        assertThat(notes(17, table)).containsExactly("Columns \"_ab_cdc_lsn\", \"_ab_cdc_deleted_at\" share their "
                + "names with CDC metadata fields, which this schema describes instead; rename the columns to capture them.");
    }
}
