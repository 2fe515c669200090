package io.sourcepostgres.capture;

import io.sourcepostgres.backfill.BackfillCoordinator;
import io.sourcepostgres.backfill.BackfillStream;
import io.sourcepostgres.backfill.ChunkReadAhead;
import io.sourcepostgres.backfill.KeylessBackfills;
import io.sourcepostgres.backfill.RecentTransactions;
import io.sourcepostgres.backfill.ScanKeyRecord;
import io.sourcepostgres.backfill.WalFence;
import io.sourcepostgres.replication.MissingSlot;
import io.sourcepostgres.replication.RelationCache;
import io.sourcepostgres.replication.SlotAndPublication;
import io.sourcepostgres.state.CaptureState;
import io.sourcepostgres.state.Checkpoints;
import io.sourcepostgres.state.HistoryCheck;
import io.sourcepostgres.state.StateValidation;
import io.sourcepostgres.state.StreamProgress;
import io.sourcepostgres.streams.CapturedStreams;
import io.sourcepostgres.streams.ChangeRecordWriter;
import io.sourcepostgres.airbyte.AirbyteOutput;
import io.sourcepostgres.airbyte.ConfiguredCatalog;
import io.sourcepostgres.airbyte.ConnectorException;
import io.sourcepostgres.airbyte.LogLevel;
import io.sourcepostgres.airbyte.StreamId;
import io.sourcepostgres.airbyte.StreamStatus;
import io.sourcepostgres.config.ConnectorConfig;
import io.sourcepostgres.pgoutput.Lsn;
import io.sourcepostgres.postgres.PgConnections;
import io.sourcepostgres.postgres.ReplicationSlot;
import io.sourcepostgres.postgres.PublishedSubset;
import io.sourcepostgres.postgres.QueryNetworkTimeout;
import io.sourcepostgres.postgres.SqlFailures;
import io.sourcepostgres.postgres.WalSenderLiveness;
import io.sourcepostgres.postgres.ServerInfo;
import io.sourcepostgres.postgres.ServerShutdownWatch;
import io.sourcepostgres.replication.CommittedChanges;
import io.sourcepostgres.replication.ReplicationStream;
import io.sourcepostgres.replication.StreamedTransactions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.postgresql.jdbc.PgConnection;

/**
 * One {@code read}: prepares the slot and publication, checks the state against them, then runs the
 * capture until it is caught up (or, with tail, until stopped), reporting each stream's status.
 */
public final class CaptureRun {
    private final ConnectorConfig config;
    private final ConfiguredCatalog catalog;
    private final Optional<CaptureState> inputState;
    private final AirbyteOutput out;
    private final ShutdownSignal shutdown;

    public CaptureRun(ConnectorConfig config, ConfiguredCatalog catalog, Optional<CaptureState> inputState,
            AirbyteOutput out, ShutdownSignal shutdown) {
        this.config = config;
        this.catalog = catalog;
        this.inputState = inputState;
        this.out = out;
        this.shutdown = shutdown;
    }

    public void run() {
        PgConnections connections = new PgConnections(config);
        boolean clean = false;
        List<StreamId> streams = catalog.streams().stream().map(ConfiguredCatalog.ConfiguredStream::id).toList();
        boolean started = false;
        try (Connection query = connections.openQuery(); Connection backfillConnection = connections.openQuery()) {
            ServerInfo server = ServerInfo.read(query);
            MissingSlot.refuseIfGone(query, config.slotName(), inputState, catalog); // before a new slot is made
            ReplicationSlot prepared = SlotAndPublication.prepare(query, config, server, out);
            CapturedStreams captured = CapturedStreams.resolve(query, config, catalog, out);

            // Opened before the state is checked: its walsender tells where this server's history stands.
            PgConnection replication = openReplication(connections);
            PublicationMembership membership = new PublicationMembership(query, config.publicationName(),
                    server.majorVersion());
            PartitionLeaves leaves = new PartitionLeaves(query, server.majorVersion());
            PartitionChanges partitionChanges = new PartitionChanges(leaves, captured, out);
            CaptureState state;
            long target;
            try {
                state = StreamStarts.identify(startState(server, prepared, replication),
                        inputState.map(CaptureState::streams).orElse(Map.of()), inputState.isPresent(), captured, membership,
                        config.publicationName(), out);
                state = partitionChanges.atStart(state);
                target = config.tail() ? -1 : WalFence.emit(query);
            } catch (RuntimeException | SQLException e) {
                io.sourcepostgres.postgres.PgConnections.closeQuietly(replication);
                throw e;
            }

            for (StreamId s : streams) {
                out.streamStatus(s, StreamStatus.STARTED);
            }
            started = true;
            // Planned before replication starts: with thousands of tables this takes a while, and a walsender
            // that hears nothing from its client for wal_sender_timeout ends the session.
            java.util.Set<StreamId> restarted = new java.util.HashSet<>();
            java.util.Deque<BackfillStream> backfillQueue = backfills(query, captured, state, restarted);
            for (StreamId s : restarted) {
                state = state.withStream(s, StreamProgress.PENDING);
            }
            Path spillDir = Files.createTempDirectory("source-postgres-spill");
            try (ReplicationStream stream = ReplicationStream.start(replication, config.slotName(),
                    state.position(), config.publicationName(), server.versionNum(), config.statusInterval());
                    StreamedTransactions streamed = new StreamedTransactions(spillDir);
                    ChunkReadAhead readAhead = new ChunkReadAhead(backfillConnection)) {
                // The position of the state we were given is durably stored downstream: the slot may free WAL before it.
                stream.acknowledge(state.position());
                stream.sendStatus();
                for (StreamId s : streams) {
                    out.streamStatus(s, StreamStatus.RUNNING);
                }
                out.log(LogLevel.INFO, "Streaming slot \"" + config.slotName() + "\" from " + Lsn.format(state.position())
                        + (target == -1 ? " until stopped" : " until " + Lsn.format(target))
                        + " (pgoutput protocol " + stream.protocolVersion() + ")");
                Checkpoints checkpoints = new Checkpoints(out, state, inputState.isPresent() && state.equals(inputState.get()), config.checkpointInterval());
                RecentTransactions recent = new RecentTransactions();
                // Fences and the writers' status go through the query connection (capture thread); chunks are
                // read on the backfill connection by the read-ahead thread.
                BackfillCoordinator backfill = new BackfillCoordinator(query, readAhead, backfillQueue,
                        checkpoints, new ChangeRecordWriter(out), recent, out, config.backfillChunkRows(),
                        config.backfillChunkBytes());
                BackfillRestarts restarts = new BackfillRestarts(query, config.publicationName(), catalog, captured,
                        checkpoints, backfill, membership, out);
                PartitionWatch partitions = new PartitionWatch(partitionChanges, checkpoints, restarts);
                RelationWatch relationWatch = new RelationWatch(state, membership, restarts, config.publicationName(), out);
                java.util.concurrent.atomic.AtomicReference<CaptureLoop> loop = new java.util.concurrent.atomic.AtomicReference<>();
                LeafRouting routing = new LeafRouting(captured::targetOf, leaves, partitionChanges,
                        leaves.publishedViaRoot(partitionChanges.roots(), config.publicationName(), server.majorVersion()),
                        () -> loop.get().transactionCommit());
                RelationCache relations = new RelationCache(routing::targetOf,
                        new io.sourcepostgres.discovery.CatalogTypeLookup(query), out, (r, t) -> {
                            relationWatch.onRelation(r, t);
                            partitions.poll(); // pgoutput describes a root again after a partition came or went
                        });
                CaptureLoop capture = new CaptureLoop(new CommittedChanges(stream, streamed, relations),
                        new ChangeRecordWriter(out), checkpoints, new TruncateHandler(out, config.truncateHandling(), restarts::restart,
                                new TruncateTriggers(query)::deletesFirst),
                        new UnchangedToastValues(query), new UnsentToastValues(query, (unreadable, why) -> {
                            out.log(LogLevel.WARN, why);
                            restarts.restart(unreadable);
                        }), backfill, recent, out);
                loop.set(capture);
                // Checked whenever the stream is idle between transactions: a SIGTERM stops cleanly, a server
                // shutdown fails the run (transient) instead of holding the server's shutdown open.
                ServerShutdownWatch serverShutdown = new ServerShutdownWatch(query);
                // Checked on every idle turn, in a transaction or not: a stream silent for good fails the run.
                WalSenderLiveness liveness = new WalSenderLiveness(query, config.slotName(), stream.backendPid(),
                        stream::lastReceivedLsn, WalSenderLiveness.silenceFor(config.statusInterval()),
                        WalSenderLiveness.probeTimeoutFor(config.statusInterval()), m -> out.log(LogLevel.DEBUG, m));
                CaptureState resumed = state;
                capture.restoreUnsentImages(state.unsentImages(), id -> {
                    StreamProgress p = resumed.streams().get(id);
                    CapturedStreams.Target t = captured.targets().get(id);
                    // A stream backfilled anew reads every row again: its waiting images are not needed.
                    return p == null || p.phase() == StreamProgress.Phase.PENDING || t == null || t.table() == null
                            ? null : relations.describe(t.table());
                });
                capture.run(target, () -> {
                    serverShutdown.check();
                    return shutdown.requested();
                }, () -> {
                    liveness.check();
                    partitions.poll();
                });
                out.log(LogLevel.INFO, "Caught up at " + Lsn.format(checkpoints.position()) + ": "
                        + capture.changesEmitted() + " changes and " + backfill.rowsEmitted() + " backfilled rows emitted");
                String unsentToast = capture.unsentToastSummary();
                if (unsentToast != null) {
                    out.log(LogLevel.INFO, unsentToast);
                }
            } finally {
                deleteQuietly(spillDir);
            }
            for (StreamId s : streams) {
                out.streamStatus(s, StreamStatus.COMPLETE);
            }
            clean = true;
        } catch (SQLException e) {
            throw SqlFailures.failure("A query", e);
        } catch (java.io.IOException e) {
            throw ConnectorException.system("Cannot create a temporary directory: " + e.getMessage(), e);
        } finally {
            try {
                if (!clean && started) {
                    for (StreamId s : streams) {
                        out.streamStatus(s, StreamStatus.INCOMPLETE);
                    }
                }
            } finally {
                // Even when stdout itself failed: a SIGTERM's shutdown hook waits for this.
                shutdown.finished(clean);
            }
        }
    }

    /**
     * The replication connection, with a socket timeout: its reads never block while streaming (the loop
     * polls), but closing it waits for the server's answer, which a stalled path never delivers.
     */
    private PgConnection openReplication(PgConnections connections) throws SQLException {
        PgConnection c = connections.openReplication();
        QueryNetworkTimeout.apply(c, WalSenderLiveness.silenceFor(config.statusInterval())
                .plus(WalSenderLiveness.probeTimeoutFor(config.statusInterval())));
        return c;
    }

    private CaptureState startState(ServerInfo server, ReplicationSlot prepared, PgConnection replication) throws SQLException {
        long slotPosition = prepared.confirmedFlushLsn().asLong();
        io.sourcepostgres.postgres.ServerHistory history = io.sourcepostgres.postgres.ServerHistory.identify(replication);
        Map<StreamId, StreamProgress> progress = new LinkedHashMap<>();
        if (inputState.isPresent()) {
            CaptureState given = inputState.get();
            StateValidation.check(given, server.systemIdentifier(), config.slotName(), slotPosition);
            // Before the slot is told the state's position: never confirm one this server's history does not hold.
            HistoryCheck.check(given, history, ancestor -> history.branchPoint(replication, ancestor));
            for (ConfiguredCatalog.ConfiguredStream s : incremental()) {
                StreamProgress p = given.streams().get(s.id());
                progress.put(s.id(), p != null ? p : StreamProgress.PENDING);
            }
            return new CaptureState(given.position(), given.systemIdentifier(), given.slotName(), history.timeline(),
                    progress).withUnsentImages(given.unsentImages());
        }
        for (ConfiguredCatalog.ConfiguredStream s : incremental()) {
            progress.put(s.id(), StreamProgress.PENDING);
        }
        return new CaptureState(slotPosition, server.systemIdentifier(), config.slotName(), history.timeline(), progress);
    }

    private List<ConfiguredCatalog.ConfiguredStream> incremental() {
        return catalog.streams().stream().filter(s -> s.syncMode() == ConfiguredCatalog.SyncMode.INCREMENTAL).toList();
    }

    /**
     * The streams to backfill in this run, in catalog order: incremental streams whose backfill is not
     * complete (resuming after their last chunk), and every full-refresh stream from its first row.
     */
    private java.util.Deque<BackfillStream> backfills(Connection query, CapturedStreams captured, CaptureState state,
            java.util.Set<StreamId> restarted) throws SQLException {
        java.util.Deque<BackfillStream> queue = new java.util.ArrayDeque<>();
        // An incremental stream's backfilled rows must look like its replicated ones: they hold a generated
        // column only when pgoutput sends it. A full-refresh stream is only ever backfilled and keeps them all.
        boolean generatedReplicated = io.sourcepostgres.postgres.Publications.publishesGeneratedColumns(query,
                config.publicationName());
        // Row estimates of all tables to read with a few catalog queries, not a planner round trip per table.
        List<io.sourcepostgres.discovery.DiscoveredTable> toEstimate = new java.util.ArrayList<>();
        for (ConfiguredCatalog.ConfiguredStream s : catalog.streams()) {
            StreamProgress progress = state.streams().get(s.id());
            if (s.syncMode() != ConfiguredCatalog.SyncMode.INCREMENTAL || progress == null || !progress.isActive()) {
                toEstimate.add(captured.targets().get(s.id()).table());
            }
        }
        Map<Long, io.sourcepostgres.backfill.RowEstimate> estimates =
                io.sourcepostgres.backfill.RowEstimate.ofAll(query, toEstimate);
        Map<StreamId, io.sourcepostgres.backfill.BackfillPlan> keyedPlans = keyedPlans(query, captured, state,
                generatedReplicated);
        for (ConfiguredCatalog.ConfiguredStream s : catalog.streams()) {
            boolean incremental = s.syncMode() == ConfiguredCatalog.SyncMode.INCREMENTAL;
            StreamProgress progress = state.streams().get(s.id());
            if (incremental && progress != null && progress.isActive()) {
                continue;
            }
            CapturedStreams.Target target = captured.targets().get(s.id());
            // A table with neither a primary key nor a configured one is read by physical location.
            io.sourcepostgres.backfill.BackfillPlan plan = target.key().isEmpty()
                    ? io.sourcepostgres.backfill.CtidChunkReader.plan(target.table(), !incremental || generatedReplicated,
                            query.getMetaData().getDatabaseMajorVersion())
                    : keyedPlans.get(s.id());
            io.sourcepostgres.backfill.RowEstimate estimate = estimates.containsKey(target.table().oid())
                    ? estimates.get(target.table().oid()) : io.sourcepostgres.backfill.RowEstimate.of(query, target.table());
            long done = incremental && progress != null ? progress.rowsDone() : 0;
            // A keyless stream resumes by physical location, checked by its own rules (KeylessBackfills).
            Optional<String> keyChanged = incremental && progress != null && !target.key().isEmpty()
                    && progress.phase() == StreamProgress.Phase.BACKFILLING
                    ? ScanKeyRecord.mismatch(progress, plan) : Optional.empty();
            if (keyChanged.isPresent()) {
                // Never resume from a position of another order: that would skip rows. Start over instead.
                out.log(LogLevel.WARN, "The backfill of " + s.id() + " starts over from its first row: "
                        + keyChanged.get() + ". Rows already emitted are emitted again.");
                restarted.add(s.id());
                done = 0;
            }
            out.estimate(s.id(), Math.max(0, estimate.rows() - done), estimate.bytes());
            queue.add(new BackfillStream(s.id(), plan, target.key().isEmpty() ? null
                    : replanner(s, target, incremental, !incremental || generatedReplicated), incremental,
                    estimate.rows(), done));
        }
        return queue;
    }

    /**
     * The plans of the keyed streams to backfill, with a few catalog queries for all of them (what the publication
     * publishes of each, their indexes and collations) rather than a few per table.
     */
    private Map<StreamId, io.sourcepostgres.backfill.BackfillPlan> keyedPlans(Connection query, CapturedStreams captured,
            CaptureState state, boolean generatedReplicated) throws SQLException {
        List<ConfiguredCatalog.ConfiguredStream> keyed = new java.util.ArrayList<>();
        List<PublishedSubset.Table> replicated = new java.util.ArrayList<>();
        for (ConfiguredCatalog.ConfiguredStream s : catalog.streams()) {
            boolean incremental = s.syncMode() == ConfiguredCatalog.SyncMode.INCREMENTAL;
            StreamProgress progress = state.streams().get(s.id());
            CapturedStreams.Target target = captured.targets().get(s.id());
            if ((incremental && progress != null && progress.isActive()) || target.key().isEmpty()) {
                continue;
            }
            keyed.add(s);
            if (incremental) {
                replicated.add(new PublishedSubset.Table(s.id(), target.table().oid(), target.table().isPartitioned()));
            }
        }
        // A full-refresh stream is not replicated: it reads the whole table, whatever the publication says.
        Map<Long, PublishedSubset> published = PublishedSubset.ofAll(query, config.publicationName(), replicated);
        List<io.sourcepostgres.backfill.BackfillPlan.Request> requests = new java.util.ArrayList<>();
        for (ConfiguredCatalog.ConfiguredStream s : keyed) {
            boolean incremental = s.syncMode() == ConfiguredCatalog.SyncMode.INCREMENTAL;
            CapturedStreams.Target target = captured.targets().get(s.id());
            requests.add(new io.sourcepostgres.backfill.BackfillPlan.Request(target.table(), s.primaryKey(),
                    !incremental || generatedReplicated,
                    incremental ? published.get(target.table().oid()) : PublishedSubset.ALL, target::emits));
        }
        List<io.sourcepostgres.backfill.BackfillPlan> plans = io.sourcepostgres.backfill.BackfillPlan.ofAll(query, requests);
        Map<StreamId, io.sourcepostgres.backfill.BackfillPlan> byStream = new java.util.HashMap<>();
        for (int i = 0; i < keyed.size(); i++) {
            byStream.put(keyed.get(i).id(), plans.get(i));
        }
        return byStream;
    }

    /** Plans the backfill of {@code s} anew from the catalog as it is now: after its table's columns changed. */
    private io.sourcepostgres.backfill.ChunkReader.Replanner replanner(ConfiguredCatalog.ConfiguredStream s,
            CapturedStreams.Target target, boolean incremental, boolean withGenerated) {
        return c -> {
            io.sourcepostgres.discovery.DiscoveredTable table = io.sourcepostgres.discovery.TableCatalog
                    .read(c, config.publicationName(), List.of(s.id())).table(s.id())
                    .orElseThrow(() -> ConnectorException.transientError("Table " + s.id() + " disappeared while it "
                            + "was being backfilled (dropped or renamed); the next run reports what to do.", null));
            // The same subset as the first plan: what the publication publishes, and the selected columns.
            return io.sourcepostgres.backfill.BackfillPlan.of(c, table, s.primaryKey(), withGenerated,
                    !incremental ? PublishedSubset.ALL : PublishedSubset.of(c, config.publicationName(), s.id(),
                            table.oid(), table.isPartitioned()), target::emits);
        };
    }

    private static void deleteQuietly(Path dir) {
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (java.io.IOException ignored) {
            // a leftover empty temp directory is harmless
        }
    }

}
