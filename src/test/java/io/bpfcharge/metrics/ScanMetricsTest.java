package io.bpfcharge.metrics;

import io.bpfcharge.migrate.Result;
import io.bpfcharge.bpf.MapInfo;
import io.bpfcharge.bpf.MapType;
import io.bpfcharge.inventory.CgroupTotal;
import io.bpfcharge.inventory.MapRecord;
import io.bpfcharge.inventory.Memcg;
import io.bpfcharge.inventory.Snapshot;
import io.prometheus.metrics.model.snapshots.DataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ScanMetricsTest {
    static final Memcg LIVE = new Memcg(10, "/pod/new", true, true);
    static final Memcg EMPTY = new Memcg(11, "/pod/idle", true, false);
    static final Memcg GONE = new Memcg(12, "/pod/new", false, false); // the old memcg of a restarted container: same path

    static MapRecord map(int id, String name, long bytes, Memcg memcg, boolean pinned) {
        MapInfo info = new MapInfo(id, MapType.HASH, name, 8, 64, 100, 0, 0, 0, 0, 0, 0, 0);
        return new MapRecord(info, bytes, memcg, pinned ? List.of("/sys/fs/bpf/" + name) : List.of(), List.of(), List.of(), List.of());
    }

    static Snapshot snapshot(List<MapRecord> maps) {
        List<CgroupTotal> totals = List.of(
                new CgroupTotal(LIVE, sum(maps, LIVE), count(maps, LIVE), OptionalLong.of(5000), OptionalLong.of(9000), 0),
                new CgroupTotal(EMPTY, sum(maps, EMPTY), count(maps, EMPTY), OptionalLong.of(700), OptionalLong.empty(), 0),
                new CgroupTotal(GONE, sum(maps, GONE), count(maps, GONE), OptionalLong.empty(), OptionalLong.empty(), 0));
        return new Snapshot(Instant.ofEpochSecond(1000), Duration.ofMillis(250), maps, totals, Map.of());
    }

    static long sum(List<MapRecord> maps, Memcg m) { return maps.stream().filter(r -> r.memcg() == m).mapToLong(MapRecord::bytes).sum(); }

    static int count(List<MapRecord> maps, Memcg m) { return (int) maps.stream().filter(r -> r.memcg() == m).count(); }

    /** A family's data points as "label=value,..." -> value, labels in name order. */
    static Map<String, Double> points(List<MetricSnapshot> families, String name) {
        MetricSnapshot f = families.stream().filter(s -> s.getMetadata().getPrometheusName().equals(name)).findFirst().orElseThrow();
        Map<String, Double> out = new TreeMap<>();
        for (DataPointSnapshot p : f.getDataPoints()) {
            StringBuilder k = new StringBuilder();
            p.getLabels().forEach(l -> k.append(k.isEmpty() ? "" : ",").append(l.getName()).append('=').append(l.getValue()));
            out.put(k.toString(), ((GaugeSnapshot.GaugeDataPointSnapshot) p).getValue());
        }
        return out;
    }

    final List<MapRecord> maps = List.of(map(1, "big", 4000, LIVE, true), map(2, "small", 100, LIVE, false),
            map(3, "idle", 300, EMPTY, true), map(4, "old", 200, GONE, true), map(5, "root", 50, null, false));

    @Test
    void everyMapIsASeriesWithItsLabels() {
        Map<String, Double> p = points(ScanMetrics.of(snapshot(maps), 0), "bpfcharge_map_memory_bytes");
        assertEquals(5, p.size());
        assertEquals(4000.0, p.get("cgroup=/pod/new,map_id=1,map_name=big,map_type=hash,pinned=true"));
        assertEquals(100.0, p.get("cgroup=/pod/new,map_id=2,map_name=small,map_type=hash,pinned=false"));
        assertEquals(50.0, p.get("cgroup=,map_id=5,map_name=root,map_type=hash,pinned=false"), "uncharged: empty cgroup label");
    }

    @Test
    void cgroupFamiliesSumMemcgsThatShareAPathAndNameTheStrandedReason() {
        List<MetricSnapshot> f = ScanMetrics.of(snapshot(maps), 0);
        assertEquals(Map.of(NEW, 4300.0, IDLE, 300.0), points(f, "bpfcharge_cgroup_bpf_memory_bytes"));
        assertEquals(Map.of(NEW, 3.0, IDLE, 1.0), points(f, "bpfcharge_cgroup_bpf_maps"));
        assertEquals(Map.of(NEW, 5000.0, IDLE, 700.0), points(f, "bpfcharge_cgroup_memory_usage_bytes"));
        assertEquals(Map.of(NEW, 9000.0), points(f, "bpfcharge_cgroup_memory_limit_bytes"));
        assertEquals(Map.of(IDLE + ",reason=empty", 300.0, NEW + ",reason=offline", 200.0),
                points(f, "bpfcharge_cgroup_stranded_bpf_memory_bytes"));
        assertEquals(Map.of("", 5.0), points(f, "bpfcharge_maps"));
        assertEquals(Map.of("", 0.25), points(f, "bpfcharge_scan_duration_seconds"));
        assertEquals(Map.of("", 1000.0), points(f, "bpfcharge_scan_timestamp_seconds"));
    }

    /** Per-cgroup label sets of a cgroup that names no pod or container. */
    static final String NEW = "cgroup=/pod/new,container_id=,pod_uid=,qos=", IDLE = "cgroup=/pod/idle,container_id=,pod_uid=,qos=";

    @Test
    void podAndContainerLabelsAndTheBytesAKillWouldNotFree() {
        String uid = "0f6a4a1e-5c2b-4b8e-9d3c-2a7e1f0b9c44", id = "ab".repeat(32);
        Memcg ctr = new Memcg(20, "/kubepods/burstable/pod" + uid + "/" + id, true, true);
        MapRecord pinned = map(1, "pinned", 4000, ctr, true), held = map(2, "held", 100, ctr, false);
        Snapshot s = new Snapshot(Instant.ofEpochSecond(1000), Duration.ofMillis(250), List.of(pinned, held),
                List.of(new CgroupTotal(ctr, 4100, 2, OptionalLong.of(9000), OptionalLong.empty(), 100)), Map.of());
        String labels = "cgroup=" + ctr.path() + ",container_id=" + id + ",pod_uid=" + uid + ",qos=burstable";
        List<MetricSnapshot> f = ScanMetrics.of(s, 0);
        assertEquals(Map.of(labels, 4000.0), points(f, "bpfcharge_cgroup_bpf_memory_surviving_kill_bytes"));
        assertEquals(Map.of(labels, 4100.0), points(f, "bpfcharge_cgroup_bpf_memory_bytes"));
        assertEquals(Map.of(labels, 9000.0), points(f, "bpfcharge_cgroup_memory_usage_bytes"));
    }

    @Test
    void maxMapSeriesKeepsTheLargestAndSumsTheRestPerCgroup() {
        Map<String, Double> p = points(ScanMetrics.of(snapshot(maps), 2), "bpfcharge_map_memory_bytes");
        assertEquals(Map.of(
                "cgroup=/pod/new,map_id=1,map_name=big,map_type=hash,pinned=true", 4000.0,
                "cgroup=/pod/idle,map_id=3,map_name=idle,map_type=hash,pinned=true", 300.0,
                "cgroup=/pod/new,map_id=other,map_name=,map_type=,pinned=", 300.0, // small (LIVE) + old (GONE): one path
                "cgroup=,map_id=other,map_name=,map_type=,pinned=", 50.0), p);
        double total = p.values().stream().mapToDouble(Double::doubleValue).sum();
        assertEquals(maps.stream().mapToLong(MapRecord::bytes).sum(), (long) total, "folding keeps the total");
    }

    @Test
    void noFoldingAtOrBelowTheLimit() {
        assertEquals(5, MapSeries.fold(maps, 5).size());
        assertFalse(MapSeries.fold(maps, 5).stream().anyMatch(s -> s.mapId().equals(MapSeries.OTHER)));
        assertTrue(MapSeries.fold(maps, 4).stream().anyMatch(s -> s.mapId().equals(MapSeries.OTHER)));
    }

    @Test
    void everyMigrationResultIsExportedFromTheStart() {
        var t = new MigrationCounts.Totals(Map.of(Result.MIGRATED, 2L, Result.FAILED, 1L), 4096);
        List<MetricSnapshot> f = ScanMetrics.of(t);
        assertEquals("bpfcharge_migrations", f.get(0).getMetadata().getPrometheusName());
        assertEquals(2, f.get(0).getDataPoints().size());
        assertEquals("bpfcharge_migrated_bytes", f.get(1).getMetadata().getPrometheusName());
    }
}
