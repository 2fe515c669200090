package io.sourcepostgres.discovery;

/**
 * The configured publication as the server has it when the catalog was read.
 *
 * @param name the configured {@code publication_name}
 * @param exists whether {@code pg_publication} has it
 * @param allTables {@code FOR ALL TABLES} ({@code puballtables})
 * @param viaPartitionRoot {@code publish_via_partition_root} (PostgreSQL 13+): changes of partitions are
 *     published as changes of their partitioned table
 */
public record PublicationInfo(String name, boolean exists, boolean allTables, boolean viaPartitionRoot) {
    static PublicationInfo missing(String name) {
        return new PublicationInfo(name, false, false, false);
    }
}
