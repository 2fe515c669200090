package io.sourcepostgres.airbyte;

import java.util.Objects;

/** A stream as Airbyte names it: the table's schema (namespace) and name, exactly as PostgreSQL spells them. */
public record StreamId(String namespace, String name) implements Comparable<StreamId> {
    public StreamId {
        Objects.requireNonNull(name, "name");
    }

    @Override
    public int compareTo(StreamId o) {
        int c = String.valueOf(namespace).compareTo(String.valueOf(o.namespace));
        return c != 0 ? c : name.compareTo(o.name);
    }

    /** The qualified SQL name with every identifier quoted, e.g. {@code "public"."My ""Table"""}. */
    public String quoted() {
        return (namespace == null ? "" : quoteIdentifier(namespace) + ".") + quoteIdentifier(name);
    }

    @Override
    public String toString() {
        return (namespace == null ? "" : namespace + ".") + name;
    }

    public static String quoteIdentifier(String identifier) {
        return '"' + identifier.replace("\"", "\"\"") + '"';
    }
}
