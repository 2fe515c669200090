package io.sourcepostgres.backfill;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.sourcepostgres.airbyte.ConnectorException;
import io.sourcepostgres.airbyte.Json;
import io.sourcepostgres.discovery.ColumnInfo;
import io.sourcepostgres.discovery.DiscoveredTable;
import io.sourcepostgres.pgoutput.TupleData;
import io.sourcepostgres.postgres.Sql;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyOut;

/**
 * Reads a table without a key in chunks of pages: {@code ctid} ranges, each in a repeatable-read transaction
 * of its own. PostgreSQL 14 and later answer {@code ctid > '(p,o)' AND ctid < '(q,0)'} with a TID range
 * scan; on 12 and 13 that predicate would read the whole table for every chunk, so there the chunk asks for
 * an explicit list of the range's tuple ids ({@code ctid = ANY(...)}, every line pointer a page can hold),
 * which a TID scan fetches page by page. Both return rows in physical order.
 *
 * <p>The position kept in the state ({@link Position}) names the next tuple id, the relation's file the pages
 * belong to, and for a replicated stream the {@link KeylessStart} cut: a row version is emitted only when the
 * cut includes its creator (its {@code xmin}); the others reach the destination as change events. When the
 * table's file changed (VACUUM FULL, CLUSTER, a rewriting ALTER TABLE), page numbers mean something else: the
 * backfill starts over from page 0 with a warning, since the rows already read are read again.
 */
public final class CtidChunkReader implements ChunkSource {
    /** Rows per page assumed until a chunk has measured the table (pg_class may not know yet). */
    private static final double DEFAULT_ROWS_PER_PAGE = 50;

    private final BackfillPlan plan;
    private double rowsPerPage = -1;

    public CtidChunkReader(BackfillPlan plan) {
        this.plan = plan;
    }

    /** The plan of a table read by location: every column (generated ones as asked), no scan key. */
    public static BackfillPlan plan(DiscoveredTable table, boolean withGenerated, int serverMajorVersion) {
        List<ColumnInfo> columns = withGenerated ? table.columns()
                : table.columns().stream().filter(c -> !c.generated()).toList();
        return new BackfillPlan(table, columns, List.of(), false, null, serverMajorVersion);
    }

    @Override
    public BackfillPlan plan() {
        return plan;
    }

    /**
     * Where a keyless backfill stands: the next tuple id to read is the first after {@code (page, offset)}
     * (offset 0: the page's start), in the relation file {@code filenode} (-1: not yet known).
     */
    public record Position(long page, int offset, long filenode, KeylessStart start, long leaf) {
        public Position(long page, int offset, long filenode, KeylessStart start) {
            this(page, offset, filenode, start, 0);
        }

        static final String MARK = "ctid";

        /** The state's {@code resume_after} form: an array of strings, so the state codec needs nothing new. */
        public ArrayNode toJson() {
            ArrayNode a = Json.MAPPER.createArrayNode();
            a.add(MARK).add(Long.toString(page)).add(Integer.toString(offset)).add(Long.toString(filenode));
            a.add(start == null ? "" : start.snapshotText()).add(start == null ? "" : start.invisibleText());
            a.add(Long.toString(leaf));
            return a;
        }

        /** Whether {@code json} is a position by physical location (rather than a key's values). */
        public static boolean is(JsonNode json) {
            return json != null && json.isArray() && json.size() > 0 && MARK.equals(json.get(0).asText());
        }

        /** The position in {@code json}, or null when there is none (a full refresh's first chunk). */
        public static Position of(JsonNode json, DiscoveredTable table) {
            if (json == null || json.isNull() || json.isMissingNode()) {
                return null;
            }
            try {
                if (!json.isArray() || json.size() != 7 || !MARK.equals(json.get(0).asText())) {
                    throw new IllegalArgumentException("not a ctid position");
                }
                String snapshot = json.get(4).asText();
                KeylessStart start = snapshot.isEmpty() ? null : KeylessStart.parse(snapshot, json.get(5).asText());
                return new Position(Long.parseLong(json.get(1).asText()), Integer.parseInt(json.get(2).asText()),
                        Long.parseLong(json.get(3).asText()), start, Long.parseLong(json.get(6).asText()));
            } catch (RuntimeException e) {
                throw ConnectorException.config("The state's backfill position (resume_after) for table " + table.id()
                        + " is not a position by physical location (" + e.getMessage() + "): was it written while the "
                        + "table had a primary key? Remove the stream's entry from the state to backfill it from the "
                        + "start.", e);
            }
        }
    }

    @Override
    public Chunk read(Connection connection, JsonNode resumeAfter, int maxRows, long maxBytes) {
        Position from = Position.of(resumeAfter, plan.table());
        if (from == null) {
            from = new Position(0, 0, -1, null);
        }
        try {
            ChunkReader.execute(connection, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
            try {
                return readInTransaction(connection, from, maxRows, maxBytes);
            } finally {
                ChunkReader.execute(connection, "ROLLBACK");
            }
        } catch (SQLException e) {
            throw ChunkReader.failure("Reading a backfill chunk of table " + plan.table().id(), e);
        }
    }

    private Chunk readInTransaction(Connection connection, Position from, int maxRows, long maxBytes)
            throws SQLException {
        // A partitioned table's rows live in its leaf partitions, each with pages of its own: they are read one
        // after the other, in oid order, so that a leaf that has gone since the state was written is skipped.
        long relation = plan.table().oid();
        String relationName = plan.table().id().quoted();
        Long nextLeaf = null;
        if (plan.table().isPartitioned()) {
            List<io.sourcepostgres.discovery.Partition> leaves = plan.table().partitions().stream()
                    .filter(io.sourcepostgres.discovery.Partition::leaf)
                    .sorted(java.util.Comparator.comparingLong(io.sourcepostgres.discovery.Partition::oid)).toList();
            long wanted = from.leaf();
            io.sourcepostgres.discovery.Partition leaf = leaves.stream().filter(l -> l.oid() >= wanted).findFirst()
                    .orElse(null);
            if (leaf == null) {
                return new Chunk(plan, List.of(), 0, true, false, null, from.toJson(), null);
            }
            if (leaf.oid() != from.leaf()) {
                from = new Position(0, 0, -1, from.start(), leaf.oid());
            }
            relation = leaf.oid();
            relationName = leaf.id().quoted();
            nextLeaf = leaves.stream().map(io.sourcepostgres.discovery.Partition::oid).filter(o -> o > leaf.oid())
                    .findFirst().orElse(null);
        }
        ChunkSnapshot snapshot;
        long filenode;
        long pages;
        int maxTuplesPerPage;
        try (PreparedStatement ps = connection.prepareStatement("SELECT "
                + (plan.serverMajorVersion() >= 13 ? "pg_catalog.pg_current_snapshot()" : "pg_catalog.txid_current_snapshot()")
                + "::text, pg_catalog.pg_relation_filenode(c.oid)::bigint,"
                + " pg_catalog.pg_relation_size(c.oid) / pg_catalog.current_setting('block_size')::bigint,"
                + " (pg_catalog.current_setting('block_size')::int - 24) / 28,"
                + " CASE WHEN c.relpages > 0 AND c.reltuples > 0 THEN c.reltuples / c.relpages ELSE 0 END"
                + " FROM pg_catalog.pg_class c WHERE c.oid = ?")) {
            ps.setLong(1, relation);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw ConnectorException.transientError("Table " + plan.table().id() + " was dropped while it was "
                            + "being backfilled; the next run reads the catalog anew.", null);
                }
                snapshot = ChunkSnapshot.parse(rs.getString(1));
                filenode = rs.getLong(2);
                pages = rs.getLong(3);
                // MaxHeapTuplesPerPage: (block size - page header) / (aligned tuple header + line pointer).
                maxTuplesPerPage = rs.getInt(4);
                if (rowsPerPage <= 0) {
                    rowsPerPage = rs.getDouble(5) > 0 ? rs.getDouble(5) : DEFAULT_ROWS_PER_PAGE;
                }
            }
        }
        if (from.filenode() != -1 && from.filenode() != filenode) {
            Position restart = new Position(0, 0, filenode, from.start(), from.leaf());
            String warning = "The file of table " + plan.table().id() + " was rewritten during its backfill (VACUUM FULL, "
                    + "CLUSTER or a rewriting ALTER TABLE: relfilenode " + from.filenode() + " became " + filenode + "), so "
                    + "its rows are no longer where the backfill left off. It starts over from the first page: the rows "
                    + "backfilled so far are emitted a second time. For a clean history, reset the stream.";
            return new Chunk(plan, List.of(), 0, false, false, snapshot, restart.toJson(), warning);
        }
        if (from.page() >= pages) {
            if (nextLeaf != null) {
                return new Chunk(plan, List.of(), 0, false, false, snapshot,
                        new Position(0, 0, -1, from.start(), nextLeaf).toJson(), null);
            }
            Position same = new Position(from.page(), from.offset(), filenode, from.start(), from.leaf());
            return new Chunk(plan, List.of(), 0, true, false, snapshot, same.toJson(), null);
        }
        long span = Math.max(1, (long) Math.ceil(maxRows / Math.max(1.0, rowsPerPage)));
        long endPage = Math.min(pages, from.page() + span);
        int columns = plan.columns().size();
        List<TupleData> rows = new ArrayList<>();
        long bytes = 0;
        int read = 0;
        boolean cut = false;
        long lastPage = -1;
        int lastOffset = 0;
        CopyOut copy = connection.unwrap(PGConnection.class).getCopyAPI()
                .copyOut(copySql(relationName, from, endPage, maxTuplesPerPage));
        byte[] line;
        while ((line = copy.readFromCopy()) != null) {
            TupleData all = CopyTextRow.parse(line, line.length, columns + 2);
            String ctid = all.text(columns);
            int comma = ctid.indexOf(',');
            long page = Long.parseLong(ctid.substring(1, comma));
            int offset = Integer.parseInt(ctid.substring(comma + 1, ctid.length() - 1));
            if (page < lastPage || (page == lastPage && offset <= lastOffset)) {
                throw new IllegalStateException("A TID scan of " + plan.table().id() + " returned " + ctid + " after ("
                        + lastPage + "," + lastOffset + ")");
            }
            lastPage = page;
            lastOffset = offset;
            read++;
            bytes += line.length;
            if (from.start() == null || from.start().predates(Long.parseLong(all.text(columns + 1)))) {
                rows.add(firstColumns(all, columns));
            }
            if ((bytes >= maxBytes || read >= maxRows) && copy.isActive()) {
                cut = true;
                ChunkReader.stop(connection, copy, (long) maxRows * Math.max(1, bytes / read));
                break;
            }
        }
        long scannedPages = (cut ? lastPage + 1 : endPage) - from.page();
        if (read > 0 && scannedPages > 0) {
            rowsPerPage = Math.max(1.0, (double) read / scannedPages);
        }
        Position next = cut ? new Position(lastPage, lastOffset, filenode, from.start(), from.leaf())
                : new Position(endPage, 0, filenode, from.start(), from.leaf());
        boolean relationDone = !cut && endPage >= pages;
        if (relationDone && nextLeaf != null) {
            next = new Position(0, 0, -1, from.start(), nextLeaf);
        }
        return new Chunk(plan, rows, bytes, relationDone && nextLeaf == null, cut, snapshot, next.toJson(), null);
    }

    /**
     * The COPY of the tuples after {@code from} on pages before {@code endPage}, with their {@code ctid} and
     * {@code xmin} after the plan's columns. Page and offset numbers are the connector's own integers, never
     * user input, so they are written into the SQL (COPY takes no bind parameters).
     */
    private String copySql(String relationName, Position from, long endPage, int maxTuplesPerPage) {
        String columns = plan.columns().stream().map(c -> Sql.identifier(c.name())).collect(Collectors.joining(", "));
        String select = "SELECT " + (columns.isEmpty() ? "" : columns + ", ") + "ctid, xmin FROM ONLY "
                + relationName + " WHERE ";
        String where;
        if (plan.serverMajorVersion() >= 14) {
            where = "ctid > '(" + from.page() + "," + from.offset() + ")'::tid AND ctid < '(" + endPage + ",0)'::tid";
        } else {
            where = "ctid = ANY(ARRAY(SELECT pg_catalog.format('(%s,%s)', b, o)::tid"
                    + " FROM pg_catalog.generate_series(" + from.page() + "::bigint, " + (endPage - 1) + "::bigint) b,"
                    + " pg_catalog.generate_series(1, " + maxTuplesPerPage + ") o"
                    + " WHERE b > " + from.page() + " OR o > " + from.offset() + "))";
        }
        return "COPY (" + select + where + ") TO STDOUT";
    }

    private static TupleData firstColumns(TupleData all, int columns) {
        byte[] kinds = new byte[columns];
        int[] offsets = new int[columns];
        int[] lengths = new int[columns];
        for (int i = 0; i < columns; i++) {
            kinds[i] = all.kind(i);
            offsets[i] = all.offset(i);
            lengths[i] = all.length(i);
        }
        return new TupleData(all.buffer(), kinds, offsets, lengths);
    }
}
