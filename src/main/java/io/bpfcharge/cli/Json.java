package io.bpfcharge.cli;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bpfcharge.cgroup.ContainerIdentity;
import io.bpfcharge.inventory.CgroupTotal;
import io.bpfcharge.inventory.Fate;
import io.bpfcharge.inventory.MapRecord;
import io.bpfcharge.inventory.Memcg;
import io.bpfcharge.inventory.Snapshot;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.OptionalLong;

/** The documented --json schemas (README, "JSON output"); field names are snake_case and stable. */
final class Json {
    static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private Json() {}

    static void print(PrintWriter out, Object node) {
        try {
            out.println(MAPPER.writeValueAsString(node));
            out.flush();
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Writes the maps array straight to {@code out}, in the same layout as {@link #print}: 10,000 maps
     * built as a tree first took longer than the scan that found them.
     */
    static void maps(PrintWriter out, List<MapRecord> maps, java.util.Map<Integer, Fate> fates) {
        try (JsonGenerator g = MAPPER.getFactory().createGenerator(out)) {
            g.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET); // out is stdout: more follows
            g.useDefaultPrettyPrinter();
            g.writeStartArray();
            for (MapRecord m : maps) map(g, m, fates.get(m.id()));
            g.writeEndArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        out.println();
        out.flush();
    }

    private static void map(JsonGenerator g, MapRecord m, Fate fate) throws IOException {
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
        pairs(g, "outer", m.outer(), "id", MapRecord.Slot::outerId, "key", MapRecord.Slot::key);
        g.writeObjectFieldStart("holders");
        pairs(g, "processes", m.processes(), "pid", MapRecord.ProcessHolder::pid, "comm", MapRecord.ProcessHolder::comm);
        pairs(g, "programs", m.programs(), "id", MapRecord.ProgramHolder::id, "name", MapRecord.ProgramHolder::name);
        g.writeEndObject();
        if (fate == null) g.writeNullField("kill");
        else g.writeStringField("kill", fate.label());
        g.writeEndObject();
    }

    /** An array of {number, string} objects, the shape of outer slots and both holder lists. */
    private static <T> void pairs(JsonGenerator g, String field, List<T> items, String numName,
                                  java.util.function.ToLongFunction<T> num, String strName,
                                  java.util.function.Function<T, String> str) throws IOException {
        g.writeArrayFieldStart(field);
        for (T item : items) {
            g.writeStartObject();
            g.writeNumberField(numName, num.applyAsLong(item));
            g.writeStringField(strName, str.apply(item));
            g.writeEndObject();
        }
        g.writeEndArray();
    }

    static ObjectNode cgroup(CgroupTotal t) {
        ObjectNode n = MAPPER.createObjectNode();
        n.put("path", t.memcg().path()).put("id", t.memcg().id()).put("online", t.memcg().online())
                .put("populated", t.memcg().populated()).put("bpf_bytes", t.bpfBytes()).put("maps", t.maps());
        ContainerIdentity id = t.memcg().identity();
        text(n, "pod_uid", id.podUid());
        text(n, "container_id", id.containerId());
        text(n, "qos", id.qos());
        text(n, "unit", id.unit());
        optional(n, "usage_bytes", t.usage());
        optional(n, "limit_bytes", t.limit());
        optional(n, "usage_without_bpf_bytes", t.usageWithoutBpf());
        n.put("bpf_freed_by_kill_bytes", t.freedByKillBytes()).put("bpf_surviving_kill_bytes", t.survivingKillBytes());
        n.put("stranded_bytes", t.strandedBytes());
        if (t.memcg().strandedReason() == null) n.putNull("stranded_reason");
        else n.put("stranded_reason", t.memcg().strandedReason());
        return n;
    }

    static ObjectNode cgroups(Snapshot s) {
        ObjectNode n = MAPPER.createObjectNode();
        ArrayNode list = n.putArray("cgroups");
        s.cgroups().forEach(t -> list.add(cgroup(t)));
        n.putObject("total").put("bpf_bytes", s.totalBytes()).put("stranded_bytes", s.strandedBytes())
                .put("maps", s.maps().size());
        return n;
    }

    /** A string that may be unknown: "" is written as null. */
    static void text(ObjectNode n, String field, String v) {
        if (v.isEmpty()) n.putNull(field);
        else n.put(field, v);
    }

    static void optional(ObjectNode n, String field, OptionalLong v) {
        if (v.isPresent()) n.put(field, v.getAsLong());
        else n.putNull(field);
    }
}
