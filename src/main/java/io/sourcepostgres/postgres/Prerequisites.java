package io.sourcepostgres.postgres;

import io.sourcepostgres.airbyte.ConnectorException;
import io.sourcepostgres.config.ConnectorConfig;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Everything a capture needs from the server before it starts, checked on a query connection: a supported
 * version, wal_level = logical, WAL senders, the right to replicate, a usable slot (or room to create it), a
 * publication (or the right to create it), and read access to the published tables. Every problem found is
 * reported, not only the first, each with its fix. Nothing is created or changed.
 */
public final class Prerequisites {
    /** How many tables a message names before it summarises the rest. */
    private static final int TABLES_NAMED = 20;

    private Prerequisites() {}

    /** What the checks found. {@link #slot} and {@link #publication} are empty when they do not exist yet. */
    public record Report(
            ServerInfo server,
            Optional<ReplicationSlot> slot,
            Optional<Publication> publication,
            List<Problem> problems) {

        public Report {
            problems = List.copyOf(problems);
        }

        public boolean ok() {
            return problems.isEmpty();
        }

        /** All problems in one text: the problem itself when there is one, a numbered list otherwise. */
        public String describe() {
            return Prerequisites.describe(problems);
        }

        /** Throws a config error describing every problem, if there is any. */
        public void throwIfAny() {
            if (!problems.isEmpty()) {
                throw ConnectorException.config(describe());
            }
        }
    }

    /**
     * What {@code check} reports: everything {@link #evaluateCapture} finds, and about every published table what
     * a read capturing it would refuse (no read access, hidden rows, a primary key outside the replica identity).
     */
    public static Report evaluate(Connection c, ConnectorConfig config) throws SQLException {
        return evaluate(c, config, true);
    }

    /**
     * What every {@code read} refuses before it creates or reads anything: the server, the slot and the publication
     * as {@code check} sees them, with the same messages. A read checks its captured tables itself, so the problems
     * of published tables it does not capture do not stop it.
     */
    public static Report evaluateCapture(Connection c, ConnectorConfig config) throws SQLException {
        return evaluate(c, config, false);
    }

    private static Report evaluate(Connection c, ConnectorConfig config, boolean publishedTables) throws SQLException {
        ServerInfo server = ServerInfo.read(c);
        List<Problem> problems = new ArrayList<>();
        if (server.versionNum() < ServerInfo.MIN_VERSION_NUM) {
            problems.add(new Problem("PostgreSQL " + server.version() + " is not supported",
                    "Upgrade the server to PostgreSQL 12 or newer."));
            if (server.versionNum() < 100000) {
                // No publications or pgoutput before 10: the remaining checks have nothing to look at.
                return new Report(server, Optional.empty(), Optional.empty(), problems);
            }
        }
        problems.addAll(serverProblems(server));

        Optional<ReplicationSlot> slot = ReplicationSlots.find(c, config.slotName());
        if (slot.isPresent()) {
            problems.addAll(slotProblems(server, slot.get()));
        } else {
            problems.addAll(missingSlotProblems(c, server, config));
        }

        Optional<Publication> publication = Publications.find(c, config.publicationName());
        if (publication.isPresent()) {
            problems.addAll(publicationProblems(publication.get()));
            if (publishedTables) {
                // check fails on it so that it gets fixed; a read warns and goes on (see the class).
                PartitionRootPublishing.problem(publication.get(), server.majorVersion()).ifPresent(problems::add);
            }
            if (publishedTables && !server.superuser()) {
                problems.addAll(accessProblems(server,
                        TableAccess.unreadable(c, config.publicationName(), server.bypassesRowSecurity())));
            }
            if (publishedTables) {
                problems.addAll(ReplicaIdentity.primaryKeysOutsideIdentity(c, config.publicationName()));
            }
        } else {
            problems.addAll(missingPublicationProblems(server, config));
        }
        if (publishedTables) {
            // Settings that protect a capture against a failover or a standby's catalog cleanup: check fails on
            // them so that they get fixed, but a read goes on (a promoted standby has no standby of its own yet);
            // what a read cannot do at all (a failover slot before 17 or on a standby) it refuses when it makes
            // the slot.
            problems.addAll(StandbyAndFailover.problems(c, server, config, slot));
        }
        return new Report(server, slot, publication, problems);
    }

    /** All problems in one text: the problem itself when there is one, a numbered list otherwise. */
    public static String describe(List<Problem> problems) {
        if (problems.isEmpty()) {
            return "No problems found.";
        }
        if (problems.size() == 1) {
            return problems.get(0).message();
        }
        StringBuilder sb = new StringBuilder(problems.size() + " problems must be fixed before a capture can start:");
        for (int i = 0; i < problems.size(); i++) {
            sb.append(" (").append(i + 1).append(") ").append(problems.get(i).message());
        }
        return sb.toString();
    }

    private static List<Problem> serverProblems(ServerInfo server) {
        List<Problem> problems = new ArrayList<>();
        if (!"logical".equals(server.walLevel())) {
            problems.add(new Problem("wal_level is '" + server.walLevel() + "', but logical replication needs 'logical'",
                    "Set wal_level = logical in postgresql.conf (or run ALTER SYSTEM SET wal_level = logical;) and"
                            + " restart the server. On Amazon RDS/Aurora set rds.logical_replication = 1 in the"
                            + " parameter group; on Google Cloud SQL set the flag cloudsql.logical_decoding = on."));
        }
        if (server.maxWalSenders() == 0) {
            problems.add(new Problem("max_wal_senders is 0, so the server accepts no replication connection",
                    "Set max_wal_senders = 10 in postgresql.conf (or run ALTER SYSTEM SET max_wal_senders = 10;)"
                            + " and restart the server."));
        }
        if (!server.mayReplicate()) {
            String user = Sql.identifier(server.currentUser());
            problems.add(new Problem("User " + user + " may not replicate: it is neither a superuser nor has the"
                    + " REPLICATION attribute",
                    "Grant it as a superuser: ALTER ROLE " + user + " WITH REPLICATION; (on Amazon RDS/Aurora: GRANT"
                            + " rds_replication TO " + user + ";)"));
        }
        if (server.inRecovery() && server.majorVersion() < 16) {
            problems.add(new Problem("The server is a standby (in recovery), and PostgreSQL " + server.version()
                    + " cannot decode WAL logically on a standby",
                    "Connect to the primary server, or upgrade to PostgreSQL 16 or newer to capture from a standby."));
        }
        return problems;
    }

    private static List<Problem> slotProblems(ServerInfo server, ReplicationSlot slot) {
        List<Problem> problems = new ArrayList<>();
        String name = Sql.literal(slot.name());
        String dropIt = "SELECT pg_drop_replication_slot(" + name + ");";
        if (!slot.isLogical()) {
            problems.add(new Problem("Replication slot " + name + " is a " + slot.slotType() + " slot, but the"
                    + " connector needs a logical one for pgoutput",
                    "Choose another slot_name, or, if nothing uses this slot any more, drop it: " + dropIt));
            return problems;
        }
        if (!server.database().equals(slot.database())) {
            problems.add(new Problem("Replication slot " + name + " belongs to database "
                    + Sql.identifier(slot.database()) + ", not to " + Sql.identifier(server.database())
                    + " (a logical slot decodes only the database it was created in)",
                    "Choose another slot_name for database " + Sql.identifier(server.database()) + ", or, if nothing"
                            + " uses this slot any more, drop it: " + dropIt));
        }
        if (!ReplicationSlot.PGOUTPUT.equals(slot.plugin())) {
            problems.add(new Problem("Replication slot " + name + " uses the output plugin "
                    + Sql.literal(String.valueOf(slot.plugin())) + ", but the connector reads pgoutput",
                    "Choose another slot_name, or, if nothing uses this slot any more, drop it so that the connector"
                            + " creates it for pgoutput: " + dropIt));
        }
        if (slot.active()) {
            String pid = slot.activePid() == null ? "unknown" : slot.activePid().toString();
            problems.add(new Problem("Replication slot " + name + " is in use by another connection (pid " + pid
                    + "); another capture may be reading it",
                    "Two captures must never share a slot: stop the other capture or choose another slot_name. If"
                            + " that connection is stale, end it: SELECT pg_terminate_backend(" + pid + ");"));
        }
        if (slot.hasLostWal()) {
            problems.add(new Problem("Replication slot " + name + " is invalidated: the server removed WAL it still"
                    + " needed (wal_status = lost), so changes were lost",
                    "Drop it so that the connector creates it again and backfills anew: " + dropIt
                            + " To keep it from happening again, raise max_slot_wal_keep_size or run the capture"
                            + " more often."));
        }
        return problems;
    }

    private static List<Problem> missingSlotProblems(Connection c, ServerInfo server, ConnectorConfig config)
            throws SQLException {
        String name = Sql.literal(config.slotName());
        if (!config.createSlot()) {
            return List.of(new Problem("Replication slot " + name + " does not exist and create_slot is off",
                    "Create it in database " + Sql.identifier(server.database()) + " as a user with the REPLICATION"
                            + " attribute: SELECT pg_create_logical_replication_slot(" + name + ", 'pgoutput');"
                            + " or turn create_slot on."));
        }
        int slots = ReplicationSlots.count(c);
        if (slots >= server.maxReplicationSlots()) {
            return List.of(new Problem("Replication slot " + name + " does not exist and cannot be created: "
                    + slots + " of max_replication_slots = " + server.maxReplicationSlots() + " slots are in use",
                    "Drop a slot that nothing uses any more (SELECT pg_drop_replication_slot('<name>');) or raise"
                            + " max_replication_slots in postgresql.conf and restart the server."));
        }
        return List.of();
    }

    private static List<Problem> publicationProblems(Publication publication) {
        List<String> missing = publication.missingChangeKinds();
        if (missing.isEmpty()) {
            return List.of();
        }
        String publish = "insert, update, delete" + (publication.publishesTruncate() ? ", truncate" : "");
        return List.of(new Problem("Publication " + Sql.identifier(publication.name()) + " does not publish "
                + String.join(", ", missing) + " changes, so the capture would miss them",
                "Run: ALTER PUBLICATION " + Sql.identifier(publication.name()) + " SET (publish = '" + publish
                        + "');"));
    }

    private static List<Problem> missingPublicationProblems(ServerInfo server, ConnectorConfig config) {
        String name = Sql.identifier(config.publicationName());
        String createAll = "CREATE PUBLICATION " + name + " FOR ALL TABLES;";
        String createSome = "CREATE PUBLICATION " + name + " FOR TABLE <schema>.<table>, ...;";
        if (!config.createPublication()) {
            return List.of(new Problem("Publication " + name + " does not exist and create_publication is off",
                    "Create it in database " + Sql.identifier(server.database()) + ": " + createAll
                            + " (as a superuser) or " + createSome + " (as the tables' owner), or turn"
                            + " create_publication on."));
        }
        if (server.inRecovery()) {
            return List.of(new Problem("Publication " + name + " does not exist, and a standby server cannot create it",
                    "Create it on the primary server (it reaches the standby through replication): " + createAll));
        }
        if (!server.mayCreatePublicationForAllTables()) {
            return List.of(new Problem("Publication " + name + " does not exist, and user "
                    + Sql.identifier(server.currentUser()) + " may not create it: a publication FOR ALL TABLES"
                    + " needs a superuser",
                    "Have a superuser run, in database " + Sql.identifier(server.database()) + ": " + createAll
                            + " or, as the tables' owner, " + createSome));
        }
        return List.of();
    }

    private static List<Problem> accessProblems(ServerInfo server, List<TableAccess> unreadable) {
        String user = Sql.identifier(server.currentUser());
        List<Problem> problems = new ArrayList<>();
        List<TableAccess> denied = unreadable.stream().filter(t -> !t.schemaUsage() || !t.select()).toList();
        if (!denied.isEmpty()) {
            Set<String> grants = new LinkedHashSet<>();
            denied.stream().filter(t -> !t.schemaUsage()).forEach(t ->
                    grants.add("GRANT USAGE ON SCHEMA " + Sql.identifier(t.table().namespace()) + " TO " + user + ";"));
            List<TableAccess> noSelect = denied.stream().filter(t -> !t.select()).toList();
            if (noSelect.size() <= TABLES_NAMED) {
                noSelect.forEach(t -> grants.add("GRANT SELECT ON " + t.table().quoted() + " TO " + user + ";"));
            } else {
                noSelect.stream().map(t -> t.table().namespace()).distinct().forEach(schema -> grants.add(
                        "GRANT SELECT ON ALL TABLES IN SCHEMA " + Sql.identifier(schema) + " TO " + user + ";"));
            }
            problems.add(new Problem("User " + user + " cannot read " + denied.size() + " published table"
                    + (denied.size() == 1 ? "" : "s") + ": " + names(denied, t -> !t.select() && !t.schemaUsage()
                            ? "no SELECT, no USAGE on its schema" : !t.select() ? "no SELECT" : "no USAGE on its schema"),
                    "Grant access as the tables' owner or a superuser: " + String.join(" ", grants)));
        }
        List<TableAccess> filtered = unreadable.stream().filter(TableAccess::rowSecurityApplies).toList();
        if (!filtered.isEmpty()) {
            problems.add(new Problem("Row-level security policies hide rows of " + filtered.size() + " published table"
                    + (filtered.size() == 1 ? "" : "s") + " from user " + user + ", so a backfill would miss rows: "
                    + names(filtered, t -> "row security enabled"),
                    "Let the user bypass the policies: ALTER ROLE " + user + " BYPASSRLS; (as a superuser), or turn"
                            + " them off: ALTER TABLE " + filtered.get(0).table().quoted()
                            + " DISABLE ROW LEVEL SECURITY;"));
        }
        return problems;
    }

    private static String names(List<TableAccess> tables, Function<TableAccess, String> why) {
        String named = tables.stream().limit(TABLES_NAMED)
                .map(t -> t.table().quoted() + " (" + why.apply(t) + ")")
                .collect(Collectors.joining(", "));
        return tables.size() > TABLES_NAMED ? named + " and " + (tables.size() - TABLES_NAMED) + " more" : named;
    }
}
