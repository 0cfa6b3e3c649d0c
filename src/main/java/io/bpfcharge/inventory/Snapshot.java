package io.bpfcharge.inventory;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * One consistent scan of every BPF map in the system; never changes after it is made.
 * @param fates what a kill of its memcg's subtree does to each charged map, by map id
 * @param reparented maps charged to an ancestor of the (removed) cgroup they were first charged to, with that origin
 */
public record Snapshot(Instant at, Duration scanTime, List<MapRecord> maps, List<CgroupTotal> cgroups, Map<Integer, Fate> fates,
                       Map<Integer, Origin> reparented) {
    public Snapshot(Instant at, Duration scanTime, List<MapRecord> maps, List<CgroupTotal> cgroups, Map<Integer, Fate> fates) {
        this(at, scanTime, maps, cgroups, fates, Map.of());
    }

    static Snapshot of(Instant at, Duration scanTime, List<MapRecord> maps, Function<Memcg, CgroupTotal> usage,
                       Map<Integer, Fate> fates, Map<Integer, Origin> reparented) {
        Map<Long, long[]> sums = new HashMap<>(); // memcg id -> {bytes, count, bytes freed by a kill, reparented bytes}
        Map<Long, Memcg> memcgs = new HashMap<>();
        for (MapRecord m : maps) {
            if (m.memcg() == null) continue;
            memcgs.putIfAbsent(m.memcg().id(), m.memcg());
            long[] s = sums.computeIfAbsent(m.memcg().id(), k -> new long[4]);
            s[0] += m.bytes();
            s[1]++;
            if (fates.get(m.id()).freed()) s[2] += m.bytes();
            if (reparented.containsKey(m.id())) s[3] += m.bytes();
        }
        List<CgroupTotal> totals = new ArrayList<>();
        for (Memcg cg : memcgs.values()) {
            CgroupTotal u = usage.apply(cg);
            long[] s = sums.get(cg.id());
            totals.add(new CgroupTotal(cg, s[0], (int) s[1], u.usage(), u.limit(), s[2], s[3]));
        }
        totals.sort(Comparator.comparingLong(CgroupTotal::bpfBytes).reversed().thenComparing(t -> t.memcg().path()));
        return new Snapshot(at, scanTime, List.copyOf(maps), List.copyOf(totals), Map.copyOf(fates), Map.copyOf(reparented));
    }

    /** This scan as seen from a subtree: the maps charged to {@code top} or below it, and their cgroups. */
    public Snapshot within(String top) {
        return new Snapshot(at, scanTime, maps.stream().filter(m -> m.memcg() != null && m.memcg().within(top)).toList(),
                cgroups.stream().filter(c -> c.memcg().within(top)).toList(), fates, reparented);
    }

    /** What a kill of its memcg's subtree does to a map; null for a map charged to no memcg. */
    public Fate fate(MapRecord m) { return fates.get(m.id()); }

    public Optional<MapRecord> map(int id) {
        return maps.stream().filter(m -> m.id() == id).findFirst();
    }

    /** The map pinned at a path, if any. */
    public Optional<MapRecord> pinnedAt(String path) {
        return maps.stream().filter(m -> m.pins().contains(path)).findFirst();
    }

    /**
     * Sums over the cgroups (maps charged to a memcg), and apart from them the maps charged to none
     * (created from the root cgroup, or before memcg accounting of BPF maps).
     */
    public record Totals(long bpfBytes, int maps, long strandedBytes, long unchargedBytes, int unchargedMaps) {}

    public Totals totals() {
        long bytes = 0, stranded = 0, uncharged = 0;
        int charged = 0;
        for (CgroupTotal t : cgroups) {
            bytes += t.bpfBytes();
            charged += t.maps();
            stranded += t.strandedBytes();
        }
        for (MapRecord m : maps) if (m.memcg() == null) uncharged += m.bytes();
        return new Totals(bytes, charged, stranded, uncharged, maps.size() - charged);
    }
}
