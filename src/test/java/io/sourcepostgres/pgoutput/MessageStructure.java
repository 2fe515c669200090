package io.sourcepostgres.pgoutput;

import io.sourcepostgres.pgoutput.PgOutputMessage.Begin;
import io.sourcepostgres.pgoutput.PgOutputMessage.Column;
import io.sourcepostgres.pgoutput.PgOutputMessage.Commit;
import io.sourcepostgres.pgoutput.PgOutputMessage.Delete;
import io.sourcepostgres.pgoutput.PgOutputMessage.Insert;
import io.sourcepostgres.pgoutput.PgOutputMessage.LogicalMessage;
import io.sourcepostgres.pgoutput.PgOutputMessage.Origin;
import io.sourcepostgres.pgoutput.PgOutputMessage.Relation;
import io.sourcepostgres.pgoutput.PgOutputMessage.StreamAbort;
import io.sourcepostgres.pgoutput.PgOutputMessage.StreamCommit;
import io.sourcepostgres.pgoutput.PgOutputMessage.StreamStart;
import io.sourcepostgres.pgoutput.PgOutputMessage.StreamStop;
import io.sourcepostgres.pgoutput.PgOutputMessage.Truncate;
import io.sourcepostgres.pgoutput.PgOutputMessage.Type;
import io.sourcepostgres.pgoutput.PgOutputMessage.Update;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Renders decoded messages as text that is the same whenever the same SQL runs on a fresh database of
 * the same PostgreSQL major version: xids and user-object oids become names in order of first
 * appearance, LSNs and times are left out (except an origin LSN, which the test chooses), empty
 * transactions (sent by servers before 15) are dropped, and consecutive segments of one streamed
 * transaction are joined (where the server splits a transaction depends on its memory accounting).
 */
final class MessageStructure {
    /** PostgreSQL's FirstNormalObjectId: oids below it are built in and the same on every cluster. */
    private static final long FIRST_USER_OID = 16384;
    private static final HexFormat HEX = HexFormat.of();

    private final Map<Integer, String> xids = new HashMap<>();
    private final Map<Integer, String> oids = new HashMap<>();

    private MessageStructure() {}

    static List<String> of(List<PgOutputMessage> messages) {
        List<PgOutputMessage> kept = new ArrayList<>(messages.size());
        for (int i = 0; i < messages.size(); i++) {
            if (messages.get(i) instanceof Begin && i + 1 < messages.size() && messages.get(i + 1) instanceof Commit) {
                i++;
                continue;
            }
            kept.add(messages.get(i));
        }
        MessageStructure structure = new MessageStructure();
        List<String> lines = new ArrayList<>(kept.size());
        for (int i = 0; i < kept.size(); i++) {
            if (kept.get(i) instanceof StreamStop && i + 1 < kept.size() && kept.get(i + 1) instanceof StreamStart next
                    && !next.firstSegment() && structure.xids.containsKey(next.xid())) {
                i++;
                continue;
            }
            lines.add(structure.render(kept.get(i)));
        }
        return lines;
    }

    /**
     * Coarser still, for comparing captures from different major versions, which differ where memory
     * accounting decides: a run of inserts into one relation by one transaction becomes one line (how much
     * of a large transaction is streamed before an abort discards the rest varies), and streamed
     * transactions that were aborted whole are left out (PostgreSQL 18 no longer streams a transaction it
     * already knows to be aborted, as when a slot is read after the fact).
     */
    static List<String> acrossVersions(List<PgOutputMessage> messages) {
        Set<Integer> abortedWhole = new HashSet<>();
        for (PgOutputMessage m : messages) {
            if (m instanceof StreamAbort a && a.wholeTransaction()) {
                abortedWhole.add(a.xid());
            }
        }
        List<PgOutputMessage> kept = new ArrayList<>();
        boolean skipping = false;
        for (PgOutputMessage m : messages) {
            if (m instanceof StreamStart s && abortedWhole.contains(s.xid())) {
                skipping = true;
            } else if (skipping && m instanceof StreamStop) {
                skipping = false;
            } else if (!skipping && !(m instanceof StreamAbort a && abortedWhole.contains(a.xid()))) {
                kept.add(m);
            }
        }
        List<String> collapsed = new ArrayList<>();
        String runKey = null;
        for (String line : of(kept)) {
            String key = line.startsWith("INSERT ") ? line.substring(0, line.indexOf(" N(")) : null;
            if (key != null && key.equals(runKey)) {
                continue;
            }
            runKey = key;
            collapsed.add(key != null ? key + " N(...)" : line);
        }
        return collapsed;
    }

    private String render(PgOutputMessage message) {
        // Java 17: no pattern matching for switch yet
        if (message instanceof Begin b) {
            return "BEGIN " + xid(b.xid());
        } else if (message instanceof Commit c) {
            return "COMMIT flags=" + c.flags();
        } else if (message instanceof Origin o) {
            return "ORIGIN " + o.name() + " at " + Lsn.format(o.originLsn());
        } else if (message instanceof Relation r) {
            return "RELATION " + oid(r.relationId()) + streamed(r.xid()) + " " + r.namespace() + "." + r.name()
                    + " identity=" + r.replicaIdentity() + " " + columns(r.columns());
        } else if (message instanceof Type t) {
            return "TYPE " + oid(t.typeOid()) + streamed(t.xid()) + " " + t.namespace() + "." + t.name();
        } else if (message instanceof Insert i) {
            return "INSERT " + oid(i.relationId()) + streamed(i.xid()) + " N" + tuple(i.newTuple());
        } else if (message instanceof Update u) {
            return "UPDATE " + oid(u.relationId()) + streamed(u.xid())
                    + (u.oldTuple() == null ? "" : " " + u.oldKind() + tuple(u.oldTuple())) + " N" + tuple(u.newTuple());
        } else if (message instanceof Delete d) {
            return "DELETE " + oid(d.relationId()) + streamed(d.xid()) + " " + d.oldKind() + tuple(d.oldTuple());
        } else if (message instanceof Truncate t) {
            return "TRUNCATE" + streamed(t.xid()) + " options=" + t.options() + " " + relations(t.relationIds());
        } else if (message instanceof LogicalMessage m) {
            return "MESSAGE" + streamed(m.xid()) + (m.transactional() ? " transactional" : " non-transactional")
                    + " prefix=" + m.prefix() + " content=" + HEX.formatHex(m.content());
        } else if (message instanceof StreamStart s) {
            return "STREAM START " + xid(s.xid()) + (s.firstSegment() ? " first" : "");
        } else if (message instanceof StreamStop) {
            return "STREAM STOP";
        } else if (message instanceof StreamCommit c) {
            return "STREAM COMMIT " + xid(c.xid()) + " flags=" + c.flags();
        } else if (message instanceof StreamAbort a) {
            return "STREAM ABORT " + xid(a.xid()) + " sub=" + xid(a.subXid())
                    + (a.abortLsn() != 0 ? " with abort LSN and time" : "");
        }
        throw new IllegalArgumentException("unhandled message " + message);
    }

    private String streamed(int xid) {
        return xid == 0 ? "" : " in " + xid(xid);
    }

    private String xid(int xid) {
        return xids.computeIfAbsent(xid, x -> "x" + (xids.size() + 1));
    }

    private String oid(int oid) {
        if (Integer.toUnsignedLong(oid) < FIRST_USER_OID) {
            return String.valueOf(oid);
        }
        return oids.computeIfAbsent(oid, o -> "#" + (oids.size() + 1));
    }

    private String columns(List<Column> columns) {
        StringBuilder out = new StringBuilder("[");
        for (Column c : columns) {
            if (out.length() > 1) {
                out.append(", ");
            }
            out.append(c.name()).append(' ').append(oid(c.typeOid())).append('/').append(c.typmod());
            if (c.flags() != 0) {
                out.append(" flags=").append(c.flags());
            }
        }
        return out.append(']').toString();
    }

    private String relations(int[] ids) {
        List<String> names = new ArrayList<>();
        for (int id : ids) {
            names.add(oid(id));
        }
        return names.toString();
    }

    static String tuple(TupleData tuple) {
        StringBuilder out = new StringBuilder("(");
        for (int i = 0; i < tuple.size(); i++) {
            if (i > 0) {
                out.append(", ");
            }
            switch (tuple.kind(i)) {
                case TupleData.NULL -> out.append("null");
                case TupleData.UNCHANGED_TOAST -> out.append("unchanged-toast");
                case TupleData.TEXT -> out.append('\'').append(tuple.text(i)).append('\'');
                default -> out.append("b:").append(HEX.formatHex(tuple.buffer(), tuple.offset(i), tuple.offset(i) + tuple.length(i)));
            }
        }
        return out.append(')').toString();
    }
}
