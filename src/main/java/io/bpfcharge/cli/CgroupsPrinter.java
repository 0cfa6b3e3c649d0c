package io.bpfcharge.cli;

import com.fasterxml.jackson.core.JsonGenerator;
import io.bpfcharge.cgroup.ContainerIdentity;
import io.bpfcharge.inventory.CgroupTotal;
import io.bpfcharge.inventory.MapRecord;
import io.bpfcharge.inventory.Origin;
import io.bpfcharge.inventory.Snapshot;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalLong;

/** `cgroups`: one row, or one JSON object, per memcg holding BPF charges, and the totals over them. */
final class CgroupsPrinter implements Printer<Snapshot> {
    private final Sort.Cgroups sort;
    /** The terminal's width, which the table fits; Integer.MAX_VALUE: whole lines. */
    private final int columns;

    CgroupsPrinter(Sort.Cgroups sort, int columns) {
        this.sort = sort;
        this.columns = columns;
    }

    @Override
    public void plain(PrintWriter out, Snapshot s) {
        Table t = new Table("CGROUP", ">BPF", ">MAPS", ">USAGE", ">USAGE-NO-BPF", ">LIMIT", "STATE", ">STRANDED", ">SURVIVES-KILL");
        for (CgroupTotal c : s.cgroups().stream().sorted(sort.order).toList()) {
            t.row(c.memcg().path(), Table.bytes(c.bpfBytes()), c.maps(), size(c.usage()), size(c.usageWithoutBpf()),
                    c.limit().isPresent() ? Table.bytes(c.limit().getAsLong()) : "max",
                    (c.memcg().online() ? "online" : "offline") + "," + (c.memcg().populated() ? "populated" : "empty")
                            + (c.memcg().interior() ? ",interior" : "") + (c.reparentedBytes() > 0 ? ",reparented" : ""),
                    Table.bytes(c.strandedBytes()), Table.bytes(c.survivingKillBytes()));
        }
        Snapshot.Totals total = s.totals();
        t.row("TOTAL", Table.bytes(total.bpfBytes()), total.maps(), "", "", "", "", Table.bytes(total.strandedBytes()),
                Table.bytes(survivingKillBytes(s)));
        t.elastic("CGROUP", Table.Clip.PATH).elastic("STATE", Table.Clip.LIST).fit(columns).print(out);
        if (total.unchargedMaps() > 0)
            out.printf("%d more maps (%s) are charged to no memory cgroup%n", total.unchargedMaps(), Table.bytes(total.unchargedBytes()));
    }

    private static long survivingKillBytes(Snapshot s) { return s.cgroups().stream().mapToLong(CgroupTotal::survivingKillBytes).sum(); }

    private static String size(OptionalLong v) { return v.isPresent() ? Table.bytes(v.getAsLong()) : "-"; }

    @Override
    public void json(JsonGenerator g, Snapshot s) throws IOException {
        g.writeStartObject();
        g.writeArrayFieldStart("cgroups");
        for (CgroupTotal t : s.cgroups().stream().sorted(sort.order).toList()) cgroup(g, t, s);
        g.writeEndArray();
        Snapshot.Totals total = s.totals();
        g.writeObjectFieldStart("total");
        g.writeNumberField("bpf_bytes", total.bpfBytes());
        g.writeNumberField("stranded_bytes", total.strandedBytes());
        g.writeNumberField("bpf_surviving_kill_bytes", survivingKillBytes(s));
        g.writeNumberField("maps", total.maps());
        g.writeNumberField("uncharged_bytes", total.unchargedBytes());
        g.writeNumberField("uncharged_maps", total.unchargedMaps());
        g.writeEndObject();
        g.writeEndObject();
    }

    private static void cgroup(JsonGenerator g, CgroupTotal t, Snapshot s) throws IOException {
        g.writeStartObject();
        g.writeStringField("path", t.memcg().path());
        g.writeNumberField("id", t.memcg().id());
        g.writeBooleanField("online", t.memcg().online());
        g.writeBooleanField("populated", t.memcg().populated());
        g.writeNumberField("bpf_bytes", t.bpfBytes());
        g.writeNumberField("maps", t.maps());
        ContainerIdentity id = t.memcg().identity();
        Json.string(g, "pod_uid", id.podUid().isEmpty() ? null : id.podUid());
        Json.string(g, "container_id", id.containerId().isEmpty() ? null : id.containerId());
        Json.string(g, "qos", id.qos().isEmpty() ? null : id.qos());
        Json.string(g, "unit", id.unit().isEmpty() ? null : id.unit());
        Json.optional(g, "usage_bytes", t.usage());
        Json.optional(g, "limit_bytes", t.limit());
        Json.optional(g, "usage_without_bpf_bytes", t.usageWithoutBpf());
        g.writeNumberField("bpf_freed_by_kill_bytes", t.freedByKillBytes());
        g.writeNumberField("bpf_surviving_kill_bytes", t.survivingKillBytes());
        g.writeNumberField("stranded_bytes", t.strandedBytes());
        Json.string(g, "stranded_reason", t.strandedReason());
        g.writeBooleanField("interior", t.memcg().interior());
        g.writeNumberField("reparented_bytes", t.reparentedBytes());
        // Where the reparented charges came from: one entry per removed cgroup.
        Map<Origin, long[]> from = new LinkedHashMap<>();
        for (MapRecord m : s.maps()) {
            Origin o = s.reparented().get(m.id());
            if (o != null && m.memcg().id() == t.memcg().id()) {
                long[] sum = from.computeIfAbsent(o, k -> new long[2]);
                sum[0] += m.bytes();
                sum[1]++;
            }
        }
        g.writeArrayFieldStart("reparented_from");
        for (var e : from.entrySet()) {
            g.writeStartObject();
            g.writeNumberField("id", e.getKey().memcgId());
            g.writeStringField("path", e.getKey().path());
            Json.string(g, "container", e.getKey().container());
            g.writeNumberField("bytes", e.getValue()[0]);
            g.writeNumberField("maps", e.getValue()[1]);
            g.writeEndObject();
        }
        g.writeEndArray();
        g.writeEndObject();
    }
}
