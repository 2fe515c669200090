package io.sourcepostgres.replication;

import io.sourcepostgres.streams.CapturedColumn;
import io.sourcepostgres.streams.CapturedStreams;
import io.sourcepostgres.streams.CapturedTable;
import io.sourcepostgres.airbyte.LogSink;
import io.sourcepostgres.airbyte.LogLevel;
import io.sourcepostgres.airbyte.StreamId;
import io.sourcepostgres.pgoutput.PgOutputMessage;
import io.sourcepostgres.values.PgType;
import io.sourcepostgres.values.TypeLookup;
import io.sourcepostgres.values.ValueEncoders;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Maps pgoutput relation ids to the captured tables they describe. pgoutput sends a Relation message
 * before the first change to a table in a session and again whenever the table's shape changed, so a
 * changed shape here is a schema change of the stream, and is reported.
 */
public final class RelationCache {
    private final java.util.function.Function<PgOutputMessage.Relation, CapturedStreams.Target> targets;
    private final TypeLookup types;
    private final LogSink out;
    private final Map<Integer, CapturedTable> byRelationId = new HashMap<>();
    private final Map<StreamId, String> lastShape = new HashMap<>();
    private final Map<Long, String> typeNames = new HashMap<>();

    private final java.util.function.BiConsumer<PgOutputMessage.Relation, CapturedStreams.Target> watch;

    /** @param targets the captured stream (with its key columns) a relation belongs to, or null */
    public RelationCache(java.util.function.Function<PgOutputMessage.Relation, CapturedStreams.Target> targets,
            TypeLookup types, LogSink out) {
        this(targets, types, out, (relation, target) -> { });
    }

    /** As above; {@code watch} sees every Relation message of a captured stream (the capture watches identity changes so). */
    public RelationCache(java.util.function.Function<PgOutputMessage.Relation, CapturedStreams.Target> targets,
            TypeLookup types, LogSink out,
            java.util.function.BiConsumer<PgOutputMessage.Relation, CapturedStreams.Target> watch) {
        this.targets = targets;
        this.types = types;
        this.out = out;
        this.watch = watch;
    }

    public void onRelation(PgOutputMessage.Relation relation) {
        CapturedStreams.Target target = targets.apply(relation);
        if (target == null) {
            byRelationId.remove(relation.relationId());
            return;
        }
        CapturedTable table = describe(relation, target);
        String previous = lastShape.put(new StreamId(relation.namespace(), relation.name()), table.shape());
        if (previous != null && !previous.equals(table.shape())) {
            out.log(LogLevel.WARN, "The columns of " + table.id() + " changed while streaming; its records now have the columns "
                    + columnList(table) + ". Run discover to refresh the stream's schema.");
        }
        byRelationId.put(relation.relationId(), table);
        watch.accept(relation, target);
    }

    /**
     * The captured table a relation describes, without taking it as the stream's current shape: for rows read
     * from the table before the stream has described it (a relation described from the catalog). Null when the
     * relation is not captured.
     */
    public CapturedTable describe(PgOutputMessage.Relation relation) {
        CapturedStreams.Target target = targets.apply(relation);
        return target == null ? null : describe(relation, target);
    }

    /** As {@link #describe(PgOutputMessage.Relation)}, for a table as the catalog describes it now. */
    public CapturedTable describe(io.sourcepostgres.discovery.DiscoveredTable table) {
        List<PgOutputMessage.Column> columns = new ArrayList<>();
        for (io.sourcepostgres.discovery.ColumnInfo c : table.columns()) {
            if (!c.generated()) { // pgoutput sends no generated columns
                columns.add(new PgOutputMessage.Column(table.primaryKey().contains(c.name()) ? 1 : 0, c.name(),
                        (int) c.type().oid(), c.typmod()));
            }
        }
        return describe(new PgOutputMessage.Relation(0, (int) table.oid(), table.id().namespace(), table.id().name(),
                table.replicaIdentity(), columns));
    }

    private CapturedTable describe(PgOutputMessage.Relation relation, CapturedStreams.Target target) {
        StreamId id = target.stream();
        List<CapturedColumn> columns = new ArrayList<>(relation.columns().size());
        for (PgOutputMessage.Column c : relation.columns()) {
            long oid = Integer.toUnsignedLong(c.typeOid());
            PgType type = types.find(oid).orElse(null);
            if (type == null) {
                type = droppedType(oid);
                warnDroppedType(id, c.name(), oid);
            }
            CapturedColumn column = new CapturedColumn(c.name(), type, c.typmod(), c.isKey(), ValueEncoders.forType(type, c.typmod()));
            columns.add(target.emits(c.name()) ? column : column.unselected());
        }
        List<String> key = target.key();
        int[] keyIndexes = new int[key.size()];
        for (int k = 0; k < key.size(); k++) {
            keyIndexes[k] = -1;
            for (int i = 0; i < columns.size(); i++) {
                if (columns.get(i).name().equals(key.get(k))) {
                    keyIndexes[k] = i;
                }
            }
        }
        if (java.util.Arrays.stream(keyIndexes).anyMatch(i -> i < 0)) {
            keyIndexes = new int[0]; // a key column was dropped: key changes can no longer be recognised
        }
        return new CapturedTable(relation.relationId(), id, relation.replicaIdentity(), List.copyOf(columns), keyIndexes);
    }

    /**
     * pgoutput sends a Type message (namespace and name) before the first Relation that uses a type not built
     * in: kept so that a type dropped since can still be named.
     */
    public void onType(PgOutputMessage.Type type) {
        typeNames.put(Integer.toUnsignedLong(type.typeOid()),
                type.namespace().isEmpty() ? type.name() : type.namespace() + "." + type.name());
    }

    /**
     * A stand-in for a type that is no longer in the catalog. The walsender decodes each change with the
     * catalog as of that change, so it still sends the value's text; carried as that text (a string), the
     * family every type without an encoder of its own falls back to.
     */
    private static PgType droppedType(long oid) {
        return new PgType(oid, "pg_catalog", "unknown", 'p', 'X', null, null, List.of());
    }

    private void warnDroppedType(StreamId id, String column, long oid) {
        String name = typeNames.get(oid);
        out.log(LogLevel.WARN, "Column \"" + column + "\" of " + id + " has type " + (name == null ? "" : name + " ")
                + "(oid " + oid + ") in changes written before that type was dropped (e.g. ALTER COLUMN ... TYPE "
                + "followed by DROP TYPE). Those changes are still captured; their values of this column are written "
                + "as PostgreSQL's text of the value (a JSON string), which may not match the stream's current schema. "
                + "Changes after the column's type change use its current type. Run discover to refresh the schema.");
    }

    /** The captured table with this relation id, or null when its changes are not captured. */
    public CapturedTable get(int relationId) {
        return byRelationId.get(relationId);
    }

    private static String columnList(CapturedTable t) {
        StringBuilder sb = new StringBuilder();
        for (CapturedColumn c : t.columns()) {
            if (sb.length() > 0) {
                sb.append(", ");
            }
            sb.append(c.name()).append(' ').append(c.type().name());
        }
        return sb.toString();
    }
}
