package io.bpfcharge.cli;

import com.fasterxml.jackson.core.JsonGenerator;
import io.bpfcharge.host.ProcessInfo;
import io.bpfcharge.inventory.Fate;
import io.bpfcharge.inventory.MapRecord;
import io.bpfcharge.inventory.Memcg;
import io.bpfcharge.inventory.Origin;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** `maps`: one row, or one JSON object, per map. */
final class MapsPrinter implements Printer<List<MapRecord>> {
    /** What a kill of its memcg's subtree does to each map ({@link io.bpfcharge.inventory.Snapshot#fates}). */
    private final Map<Integer, Fate> fates;
    /** Maps charged to an ancestor of their removed first cgroup ({@link io.bpfcharge.inventory.Snapshot#reparented}). */
    private final Map<Integer, Origin> reparented;

    /** The terminal's width, which the table fits; Integer.MAX_VALUE: whole lines. */
    private final int columns;

    MapsPrinter(Map<Integer, Fate> fates, Map<Integer, Origin> reparented, int columns) {
        this.fates = fates;
        this.reparented = reparented;
        this.columns = columns;
    }

    /** "reparented" (its first cgroup was removed), else its cgroup's stranded reason; null when not stranded. */
    private String strandedReason(MapRecord m) {
        if (reparented.containsKey(m.id())) return "reparented";
        return m.memcg() == null ? null : m.memcg().strandedReason();
    }

    @Override
    public void plain(PrintWriter out, List<MapRecord> maps) {
        Table t = new Table(">ID", "NAME", "TYPE", ">BYTES", "MEMCG", "STATE", "PINS", "OUTER", "HOLDERS");
        for (MapRecord m : maps) {
            t.row(m.id(), m.info().name(), m.info().type(), Table.bytes(m.bytes()),
                    m.memcg() == null ? "(not charged)" : m.memcg().path(),
                    m.memcg() == null ? "" : strandedReason(m) != null ? "stranded:" + strandedReason(m) : "ok",
                    String.join(",", m.pins()),
                    m.outer().stream().map(MapsPrinter::slot).collect(Collectors.joining(",")),
                    holders(m));
        }
        t.elastic("MEMCG", Table.Clip.PATH).elastic("PINS", Table.Clip.PATH).elastic("OUTER", Table.Clip.LIST)
                .elastic("HOLDERS", Table.Clip.LIST).fit(columns).print(out);
    }

    /**
     * A map-of-maps slot as OUTER-ID[KEY]: a 4-byte key is an array_of_maps index (or a u32 hash key), shown as the
     * number it is; the kernel stores it little-endian. Other keys stay in hex, as the JSON gives every key.
     */
    static String slot(MapRecord.Slot s) {
        String key = s.key();
        if (key.length() == 8) key = Long.toString(Integer.toUnsignedLong(Integer.reverseBytes(Integer.parseUnsignedInt(key, 16))));
        return s.outerId() + "[" + key + "]";
    }

    private static String holders(MapRecord m) {
        String procs = m.processes().stream().map(p -> p.comm() + "/" + p.pid()).collect(Collectors.joining(","));
        String progs = m.programs().stream().map(p -> (p.name().isEmpty() ? "" : p.name() + "/") + "prog:" + p.id())
                .collect(Collectors.joining(","));
        return procs.isEmpty() ? progs : progs.isEmpty() ? procs : procs + "," + progs;
    }

    @Override
    public void json(JsonGenerator g, List<MapRecord> maps) throws IOException {
        g.writeStartArray();
        for (MapRecord m : maps) map(g, m);
        g.writeEndArray();
    }

    /** {pid, comm, uid, user, cmdline, started}: the last four null when it exited before the scan read it. */
    private static void process(JsonGenerator g, MapRecord.ProcessHolder p) throws IOException {
        g.writeStartObject();
        g.writeNumberField("pid", p.pid());
        g.writeStringField("comm", p.comm());
        ProcessInfo i = p.process();
        if (i == null) {
            for (String f : new String[]{"uid", "user", "cmdline", "started"}) g.writeNullField(f);
        } else {
            g.writeNumberField("uid", i.uid());
            g.writeStringField("user", i.user());
            g.writeStringField("cmdline", i.commandLine());
            g.writeStringField("started", i.started().toString());
        }
        g.writeEndObject();
    }

    private void map(JsonGenerator g, MapRecord m) throws IOException {
        var i = m.info();
        g.writeStartObject();
        g.writeNumberField("id", i.id());
        g.writeStringField("name", i.name());
        g.writeStringField("type", i.type().name());
        g.writeNumberField("key_size", i.keySize());
        g.writeNumberField("value_size", i.valueSize());
        g.writeNumberField("max_entries", i.maxEntries());
        g.writeNumberField("flags", i.flags());
        g.writeNumberField("bytes", m.bytes());
        g.writeArrayFieldStart("pins");
        for (String p : m.pins()) g.writeString(p);
        g.writeEndArray();
        if (m.memcg() == null) {
            g.writeNullField("memcg");
        } else {
            Memcg c = m.memcg();
            g.writeObjectFieldStart("memcg");
            g.writeNumberField("id", c.id());
            g.writeStringField("path", c.path());
            g.writeBooleanField("online", c.online());
            g.writeBooleanField("populated", c.populated());
            g.writeEndObject();
        }
        Json.pairs(g, "outer", m.outer(), "id", MapRecord.Slot::outerId, "key", MapRecord.Slot::key);
        g.writeObjectFieldStart("holders");
        g.writeArrayFieldStart("processes");
        for (MapRecord.ProcessHolder p : m.processes()) process(g, p);
        g.writeEndArray();
        Json.pairs(g, "programs", m.programs(), "id", MapRecord.ProgramHolder::id, "name", MapRecord.ProgramHolder::name);
        g.writeEndObject();
        Json.string(g, "stranded_reason", strandedReason(m));
        Origin origin = reparented.get(m.id());
        if (origin == null) {
            g.writeNullField("origin");
        } else {
            g.writeObjectFieldStart("origin");
            g.writeNumberField("id", origin.memcgId());
            g.writeStringField("path", origin.path());
            Json.string(g, "container", origin.container());
            g.writeEndObject();
        }
        Fate fate = fates.get(m.id());
        Json.string(g, "kill", fate == null ? null : fate.label());
        g.writeEndObject();
    }
}
