package io.sourcepostgres.postgres;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Set;
import java.util.TreeSet;

/**
 * What the server and the current role are, as far as logical replication cares: version, WAL settings,
 * identity of the cluster, and the role's replication-relevant attributes and memberships.
 *
 * @param versionNum         {@code server_version_num}, e.g. 170002
 * @param version            {@code server_version} as the server spells it, e.g. "17.2"
 * @param systemIdentifier   {@code pg_control_system().system_identifier} as text (unsigned 64-bit); null when
 *                           the role may not execute {@code pg_control_system()}
 * @param memberOf           every role the current role is a member of, directly or through other roles
 *                           (true memberships: a superuser is not listed as a member of everything)
 */
public record ServerInfo(
        int versionNum,
        String version,
        String walLevel,
        String systemIdentifier,
        int maxReplicationSlots,
        int maxWalSenders,
        boolean inRecovery,
        String database,
        String currentUser,
        boolean superuser,
        boolean replication,
        boolean bypassRls,
        Set<String> memberOf) {

    /** The oldest server version the connector supports (as {@code server_version_num}). */
    public static final int MIN_VERSION_NUM = 120000;

    /**
     * Roles through which managed services hand out the right to replicate without the REPLICATION attribute
     * being visible in the catalog (Amazon RDS/Aurora, Google Cloud SQL, Azure Database for PostgreSQL).
     */
    public static final Set<String> CLOUD_REPLICATION_ROLES =
            Set.of("rds_replication", "rds_superuser", "cloudsqlsuperuser", "azure_pg_admin");

    /** The managed services' stand-ins for superuser, which may create a publication FOR ALL TABLES there. */
    public static final Set<String> CLOUD_ADMIN_ROLES = Set.of("rds_superuser", "cloudsqlsuperuser", "azure_pg_admin");

    public ServerInfo {
        memberOf = Set.copyOf(memberOf);
    }

    public static ServerInfo read(Connection c) throws SQLException {
        int versionNum;
        String version;
        String walLevel;
        int maxSlots;
        int maxSenders;
        boolean inRecovery;
        String database;
        String user;
        boolean superuser;
        boolean replication;
        boolean bypassRls;
        try (Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT current_setting('server_version_num')::int,"
                        + " current_setting('server_version'), current_setting('wal_level'),"
                        + " current_setting('max_replication_slots')::int, current_setting('max_wal_senders')::int,"
                        + " pg_is_in_recovery(), current_database(), current_user,"
                        + " r.rolsuper, r.rolreplication, r.rolbypassrls"
                        + " FROM pg_catalog.pg_roles r WHERE r.rolname = current_user")) {
            if (!rs.next()) {
                throw new SQLException("the current role is missing from pg_roles");
            }
            versionNum = rs.getInt(1);
            version = rs.getString(2);
            walLevel = rs.getString(3);
            maxSlots = rs.getInt(4);
            maxSenders = rs.getInt(5);
            inRecovery = rs.getBoolean(6);
            database = rs.getString(7);
            user = rs.getString(8);
            superuser = rs.getBoolean(9);
            replication = rs.getBoolean(10);
            bypassRls = rs.getBoolean(11);
        }
        return new ServerInfo(versionNum, version, walLevel, systemIdentifier(c), maxSlots, maxSenders, inRecovery,
                database, user, superuser, replication, bypassRls, memberships(c));
    }

    public int majorVersion() {
        return versionNum / 10000;
    }

    public boolean isMemberOf(String role) {
        return memberOf.contains(role);
    }

    /** Whether the catalog says this role may open a replication connection and use slots. */
    public boolean mayReplicate() {
        return superuser || replication || memberOf.stream().anyMatch(CLOUD_REPLICATION_ROLES::contains);
    }

    /** Whether the catalog says this role may create a publication FOR ALL TABLES. */
    public boolean mayCreatePublicationForAllTables() {
        return superuser || memberOf.stream().anyMatch(CLOUD_ADMIN_ROLES::contains);
    }

    /** Whether row-level security policies never hide rows from this role. */
    public boolean bypassesRowSecurity() {
        return superuser || bypassRls;
    }

    private static String systemIdentifier(Connection c) throws SQLException {
        // Executable by PUBLIC by default, but hardened servers revoke it; the identifier is then unknown here
        // (a replication connection's IDENTIFY_SYSTEM still tells it).
        try (Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(
                        "SELECT has_function_privilege('pg_catalog.pg_control_system()', 'EXECUTE')")) {
            rs.next();
            if (!rs.getBoolean(1)) {
                return null;
            }
        }
        try (Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT system_identifier::text FROM pg_catalog.pg_control_system()")) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static Set<String> memberships(Connection c) throws SQLException {
        // pg_auth_members rather than pg_has_role(): the latter says a superuser is a member of every role.
        String sql = "WITH RECURSIVE m(roleid) AS ("
                + " SELECT a.roleid FROM pg_catalog.pg_auth_members a"
                + " JOIN pg_catalog.pg_roles me ON me.oid = a.member WHERE me.rolname = current_user"
                + " UNION SELECT a.roleid FROM pg_catalog.pg_auth_members a JOIN m ON a.member = m.roleid)"
                + " SELECT r.rolname FROM pg_catalog.pg_roles r JOIN m ON r.oid = m.roleid";
        Set<String> roles = new TreeSet<>();
        try (PreparedStatement ps = c.prepareStatement(sql); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                roles.add(rs.getString(1));
            }
        }
        return roles;
    }
}
