package io.sourcepostgres.capture;

import io.sourcepostgres.backfill.BackfillCoordinator;
import io.sourcepostgres.backfill.BackfillStream;
import io.sourcepostgres.state.Checkpoints;
import io.sourcepostgres.state.StreamProgress;
import io.sourcepostgres.streams.CapturedStreams;
import io.sourcepostgres.airbyte.AirbyteOutput;
import io.sourcepostgres.airbyte.ConnectorException;
import io.sourcepostgres.airbyte.LogLevel;
import io.sourcepostgres.airbyte.StreamId;
import io.sourcepostgres.backfill.BackfillPlan;
import io.sourcepostgres.backfill.RowEstimate;
import io.sourcepostgres.discovery.DiscoveredTable;
import io.sourcepostgres.discovery.TableCatalog;
import io.sourcepostgres.postgres.Publications;
import io.sourcepostgres.postgres.PublishedSubset;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;

/**
 * The one way a stream's backfill starts over while the capture runs: the stream goes back to
 * {@code PENDING} in the state, any chunk of it that is read or waiting is dropped, and it joins the end of
 * the backfill queue with a plan made from the table as it is now (it may have been recreated with other
 * columns). Replication keeps feeding it meanwhile, exactly as for a stream added to the catalog, so the
 * re-backfilled rows merge with the changes that race them. Used when a table was truncated (with
 * {@code truncate_handling: rebackfill}), dropped and recreated under its name, or added back to the
 * publication it had left. A reset by the orchestrator reaches the same phase through the state itself.
 */
final class BackfillRestarts {
    private final Connection query;
    private final String publication;
    private final Map<StreamId, CapturedStreams.Target> targets;
    private final Map<StreamId, List<String>> catalogKeys;
    private final Checkpoints checkpoints;
    private final BackfillCoordinator backfill;
    private final PublicationMembership membership;
    private final AirbyteOutput out;

    BackfillRestarts(Connection query, String publication, io.sourcepostgres.airbyte.ConfiguredCatalog catalog,
            CapturedStreams captured, Checkpoints checkpoints, BackfillCoordinator backfill,
            PublicationMembership membership, AirbyteOutput out) {
        this.query = query;
        this.publication = publication;
        this.targets = captured.targets();
        this.catalogKeys = new java.util.HashMap<>();
        catalog.streams().forEach(s -> catalogKeys.put(s.id(), s.primaryKey()));
        this.checkpoints = checkpoints;
        this.backfill = backfill;
        this.membership = membership;
        this.out = out;
    }

    /**
     * Starts the backfill of {@code stream} over from its first row, at the current point of the replication
     * stream (the caller is the capture thread, between or inside a transaction: the state that records it is
     * only emitted at the next transaction boundary). Returns the oid of the table now behind the stream, or
     * 0 when no table has its name any more.
     */
    long restart(StreamId stream) {
        StreamProgress progress = checkpoints.progressOf(stream);
        CapturedStreams.Target target = targets.get(stream);
        if (progress == null || target == null) {
            return 0; // not an incremental stream: a full refresh reads the whole table every run anyway
        }
        DiscoveredTable table = TableCatalog.read(query, publication, List.of(stream)).table(stream).orElse(null);
        if (table == null) {
            out.log(LogLevel.WARN, "Table " + stream + " no longer exists, so its backfill cannot start over; the next "
                    + "run refuses the stream until a table of that name exists or the stream leaves the catalog.");
            return 0;
        }
        BackfillPlan plan;
        try {
            // What the publication publishes of the table shapes this backfill as it shaped the first one.
            plan = BackfillPlan.of(query, table, catalogKeys.getOrDefault(stream, List.of()),
                    Publications.publishesGeneratedColumns(query, publication),
                    PublishedSubset.of(query, publication, stream, table.oid(), table.isPartitioned()), target::emits);
        } catch (SQLException e) {
            throw ConnectorException.transientError("Planning the new backfill of " + stream + " failed: "
                    + e.getMessage(), e);
        }
        RowEstimate estimate = RowEstimate.of(query, table);
        out.estimate(stream, estimate.rows(), estimate.bytes());
        checkpoints.progress(stream,
                progress.restarted().of(table.oid(), membership.of(table.oid())));
        backfill.restart(new BackfillStream(stream, plan, true, estimate.rows(), 0));
        out.log(LogLevel.INFO, "Backfill of " + stream + " starts over from its first row (about " + estimate.rows()
                + " rows); its changes keep streaming meanwhile");
        return table.oid();
    }
}
