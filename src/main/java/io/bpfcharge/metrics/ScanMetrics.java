package io.bpfcharge.metrics;

import io.bpfcharge.cgroup.ContainerIdentity;
import io.bpfcharge.host.HostFacts;
import io.bpfcharge.inventory.CgroupTotal;
import io.bpfcharge.inventory.Snapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.InfoSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.Unit;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns one {@link Snapshot} into metric families (docs/monitoring.md, "Metrics"). Everything derived from a
 * scan is built here, once per scan, so that a scrape shows one scan and nothing else.
 */
final class ScanMetrics {
    /** What the daemon runs on; constant for its lifetime. */
    record BuildInfo(String version, String kernel, String cgroupMode) {}

    private ScanMetrics() {}

    /** The families that come from a scan; identical label sets (two memcgs with one path) are summed. */
    static List<MetricSnapshot> of(Snapshot s, int maxMapSeries) {
        Gauge maps = new Gauge("bpfcharge_map_memory_bytes", Unit.BYTES,
                "Memory of a BPF map (fdinfo memlock; an arena's allocated pages) and the memory cgroup it is charged to; map_id=\"other\" sums a cgroup's maps past --max-map-series");
        for (MapSeries m : MapSeries.fold(s.maps(), maxMapSeries))
            maps.add(m.bytes(), "map_id", m.mapId(), "map_name", m.mapName(), "map_type", m.mapType(),
                    "cgroup", m.cgroup(), "pinned", m.pinned());

        Gauge bpf = new Gauge("bpfcharge_cgroup_bpf_memory_bytes", Unit.BYTES, "BPF map memory charged to a memory cgroup");
        Gauge count = new Gauge("bpfcharge_cgroup_bpf_maps", null, "Number of BPF maps charged to a memory cgroup");
        Gauge usage = new Gauge("bpfcharge_cgroup_memory_usage_bytes", Unit.BYTES,
                "Memory use of a cgroup that holds BPF charges (memory.current on v2, memory.usage_in_bytes on v1)");
        Gauge limit = new Gauge("bpfcharge_cgroup_memory_limit_bytes", Unit.BYTES,
                "Hard memory limit of a cgroup that holds BPF charges (absent when unlimited)");
        Gauge stranded = new Gauge("bpfcharge_cgroup_stranded_bpf_memory_bytes", Unit.BYTES,
                "BPF memory charged to a cgroup no OOM kill can free: reason=empty (no tasks), offline (removed), interior (children but no task of its own) or reparented (moved up from a removed child)");
        Gauge surviving = new Gauge("bpfcharge_cgroup_bpf_memory_surviving_kill_bytes", Unit.BYTES,
                "BPF memory charged to a cgroup that killing every task in its subtree would not free (pinned, or held from outside)");
        for (CgroupTotal t : s.cgroups()) {
            String[] cg = cgroupLabels(t);
            bpf.add(t.bpfBytes(), cg);
            count.add(t.maps(), cg);
            surviving.add(t.survivingKillBytes(), cg);
            if (t.usage().isPresent()) usage.add(t.usage().getAsLong(), cg);
            if (t.limit().isPresent()) limit.add(t.limit().getAsLong(), cg);
            // Reparented maps are stranded whatever the cgroup; the rest only when the cgroup itself is stranded.
            if (t.reparentedBytes() > 0) stranded.add(t.reparentedBytes(), with(cg, "reason", "reparented"));
            if (t.memcg().stranded() && t.bpfBytes() > t.reparentedBytes())
                stranded.add(t.bpfBytes() - t.reparentedBytes(), with(cg, "reason", t.ownStrandedReason()));
        }
        Gauge total = new Gauge("bpfcharge_maps", null, "Number of BPF maps on the node");
        total.add(s.maps().size());
        Gauge duration = new Gauge("bpfcharge_scan_duration_seconds", Unit.SECONDS, "How long the scan shown by this scrape took");
        duration.add(s.scanTime().toNanos() / 1e9);
        Gauge at = new Gauge("bpfcharge_scan_timestamp_seconds", Unit.SECONDS, "When the scan shown by this scrape started (Unix time)");
        at.add(s.at().toEpochMilli() / 1e3);
        return List.of(maps.build(), bpf.build(), count.build(), usage.build(), limit.build(), stranded.build(),
                surviving.build(), total.build(), duration.build(), at.build());
    }

    /**
     * The labels of every per-cgroup series: the path, and the pod and container it names, so that PromQL can
     * join kube-state-metrics ({@code kube_pod_info{uid}}, {@code kube_pod_container_info{container_id}}).
     */
    static String[] cgroupLabels(CgroupTotal t) {
        ContainerIdentity id = t.memcg().identity();
        return new String[]{"cgroup", t.memcg().path(), "pod_uid", id.podUid(), "container_id", id.containerId(), "qos", id.qos()};
    }

    private static String[] with(String[] labels, String name, String value) {
        String[] l = java.util.Arrays.copyOf(labels, labels.length + 2);
        l[labels.length] = name;
        l[labels.length + 1] = value;
        return l;
    }

    /** The migration counters, read from the journal at scrape time. */
    static List<MetricSnapshot> of(MigrationCounts.Totals m) {
        CounterSnapshot.Builder runs = CounterSnapshot.builder().name("bpfcharge_migrations")
                .help("Migrations finished by any bpfcharge process on the node, by result (from the migration journal)");
        m.byResult().forEach((result, n) -> runs.dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder()
                .labels(Labels.of("result", result.jsonName())).value(n).build()));
        CounterSnapshot bytes = CounterSnapshot.builder().name("bpfcharge_migrated_bytes").unit(Unit.BYTES)
                .help("BPF map bytes whose charge successful migrations moved")
                .dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder().value(m.movedBytes()).build()).build();
        return List.of(runs.build(), bytes);
    }

    static MetricSnapshot of(BuildInfo b) {
        return InfoSnapshot.builder().name("bpfcharge_build").help("Version of bpfcharge, kernel release and cgroup mode")
                .dataPoint(InfoSnapshot.InfoDataPointSnapshot.builder()
                        .labels(Labels.of("version", b.version(), "kernel", b.kernel(), "cgroup_mode", b.cgroupMode())).build())
                .build();
    }

    /**
     * The node: one info series whose labels are fixed for the daemon's lifetime (one each), and its memory as
     * a gauge of its own, so that BPF bytes can be divided by it.
     */
    static List<MetricSnapshot> of(HostFacts h) {
        MetricSnapshot info = InfoSnapshot.builder().name("bpfcharge_node").help("The node's OS, kernel release and CPUs online")
                .dataPoint(InfoSnapshot.InfoDataPointSnapshot.builder()
                        .labels(Labels.of("os", h.os(), "kernel", h.kernel(), "cpus", Integer.toString(h.cpus()))).build())
                .build();
        Gauge memory = new Gauge("bpfcharge_node_memory_bytes", Unit.BYTES, "RAM the node's kernel manages (MemTotal)");
        memory.add(h.memoryBytes());
        return List.of(info, memory.build());
    }

    /** A gauge family whose data points are summed by label set. */
    private static final class Gauge {
        private final GaugeSnapshot.Builder builder;
        private final Map<Labels, Double> points = new LinkedHashMap<>();

        Gauge(String name, Unit unit, String help) {
            builder = GaugeSnapshot.builder().name(name).help(help);
            if (unit != null) builder.unit(unit);
        }

        void add(double value, String... labels) { points.merge(Labels.of(labels), value, Double::sum); }

        GaugeSnapshot build() {
            List<GaugeSnapshot.GaugeDataPointSnapshot> list = new ArrayList<>(points.size());
            points.forEach((l, v) -> list.add(GaugeSnapshot.GaugeDataPointSnapshot.builder().labels(l).value(v).build()));
            list.forEach(builder::dataPoint);
            return builder.build();
        }
    }
}
