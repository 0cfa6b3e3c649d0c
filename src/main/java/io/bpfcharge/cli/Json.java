package io.bpfcharge.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bpfcharge.inventory.CgroupTotal;
import io.bpfcharge.inventory.MapRecord;
import io.bpfcharge.inventory.Memcg;
import io.bpfcharge.inventory.Snapshot;

import java.io.PrintWriter;
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

    static ObjectNode map(MapRecord m) {
        ObjectNode n = MAPPER.createObjectNode();
        var i = m.info();
        n.put("id", i.id()).put("name", i.name()).put("type", i.type().name()).put("key_size", i.keySize())
                .put("value_size", i.valueSize()).put("max_entries", i.maxEntries()).put("flags", i.flags())
                .put("bytes", m.bytes());
        ArrayNode pins = n.putArray("pins");
        m.pins().forEach(pins::add);
        if (m.memcg() == null) n.putNull("memcg");
        else n.set("memcg", memcg(m.memcg()));
        ArrayNode outer = n.putArray("outer");
        m.outer().forEach(s -> outer.addObject().put("id", s.outerId()).put("key", s.key()));
        ObjectNode holders = n.putObject("holders");
        ArrayNode procs = holders.putArray("processes");
        m.processes().forEach(p -> procs.addObject().put("pid", p.pid()).put("comm", p.comm()));
        ArrayNode progs = holders.putArray("programs");
        m.programs().forEach(p -> progs.addObject().put("id", p.id()).put("name", p.name()));
        return n;
    }

    static ObjectNode memcg(Memcg m) {
        return MAPPER.createObjectNode().put("id", m.id()).put("path", m.path()).put("online", m.online())
                .put("populated", m.populated());
    }

    static ObjectNode cgroup(CgroupTotal t) {
        ObjectNode n = MAPPER.createObjectNode();
        n.put("path", t.memcg().path()).put("id", t.memcg().id()).put("online", t.memcg().online())
                .put("populated", t.memcg().populated()).put("bpf_bytes", t.bpfBytes()).put("maps", t.maps());
        optional(n, "usage_bytes", t.usage());
        optional(n, "limit_bytes", t.limit());
        optional(n, "usage_without_bpf_bytes", t.usageWithoutBpf());
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

    private static void optional(ObjectNode n, String field, OptionalLong v) {
        if (v.isPresent()) n.put(field, v.getAsLong());
        else n.putNull(field);
    }
}
