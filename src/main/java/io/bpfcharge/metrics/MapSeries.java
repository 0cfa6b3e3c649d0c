package io.bpfcharge.metrics;

import io.bpfcharge.inventory.MapRecord;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One {@code bpfcharge_map_memory_bytes} series. Past {@code --max-map-series}, the smaller maps of
 * each cgroup are summed into one {@code map_id="other"} series, so that sums by cgroup stay right
 * while the number of series stays bounded by the limit plus the number of charged cgroups.
 */
record MapSeries(String mapId, String mapName, String mapType, String cgroup, String pinned, long bytes) {
    static final String OTHER = "other";

    static MapSeries of(MapRecord m) {
        return new MapSeries(Integer.toString(m.id()), m.info().name(), m.info().type().name(), cgroupLabel(m),
                Boolean.toString(m.pinned()), m.bytes());
    }

    /** The cgroup label of a map: its memcg path, or "" when the map is charged to no memcg. */
    static String cgroupLabel(MapRecord m) { return m.memcg() == null ? "" : m.memcg().path(); }

    /** Every map as its own series when {@code max <= 0}; else the {@code max} largest and one "other" per cgroup. */
    static List<MapSeries> fold(List<MapRecord> maps, int max) {
        if (max <= 0 || maps.size() <= max) return maps.stream().map(MapSeries::of).toList();
        List<MapRecord> bySize = new ArrayList<>(maps);
        bySize.sort(Comparator.comparingLong(MapRecord::bytes).reversed().thenComparingInt(MapRecord::id));
        List<MapSeries> out = new ArrayList<>(max + 16);
        for (MapRecord m : bySize.subList(0, max)) out.add(MapSeries.of(m));
        Map<String, Long> rest = new LinkedHashMap<>();
        for (MapRecord m : bySize.subList(max, bySize.size())) rest.merge(cgroupLabel(m), m.bytes(), Long::sum);
        rest.forEach((cg, bytes) -> out.add(new MapSeries(OTHER, "", "", cg, "", bytes)));
        return out;
    }
}
