package io.bpfcharge.inventory;

import io.bpfcharge.bpf.BpfException;
import io.bpfcharge.bpf.Errno;
import io.bpfcharge.bpf.MapCharge;
import io.bpfcharge.bpf.MapFd;
import io.bpfcharge.bpf.MapInfo;
import io.bpfcharge.bpf.MapMemcgIterator;
import io.bpfcharge.bpf.ProgFd;
import io.bpfcharge.bpf.ProgInfo;
import io.bpfcharge.cgroup.MemoryHierarchy;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Scans every BPF map in the system into a {@link Snapshot}: attributes and bytes (map fd),
 * owner memcg (the map_memcg iterator), pins (bpffs walk), outer slots (map-of-maps contents),
 * holders (process fds and programs' map ids). Maps that vanish mid-scan are skipped.
 * Holds the loaded iterator, so one instance serves many scans (the daemon keeps one).
 */
public final class Inventory implements AutoCloseable {
    private final MemoryHierarchy hierarchy;
    private final MapMemcgIterator iterator;

    public Inventory(MemoryHierarchy hierarchy) {
        this.hierarchy = hierarchy;
        this.iterator = MapMemcgIterator.open();
    }

    public MemoryHierarchy hierarchy() { return hierarchy; }

    public Snapshot scan() {
        long t0 = System.nanoTime();
        Instant at = Instant.now();
        Map<Integer, MapCharge> charges = iterator.read();
        Map<Integer, Facts> facts = new ConcurrentHashMap<>();
        Map<Integer, List<String>> pins = new ConcurrentHashMap<>();
        // Per-map and per-pin work is a few syscalls each; two cores nearly halve a 10,000-map scan.
        // A pinned map is described from its pin's fd: opening it again by id would double its syscalls.
        Pins.files().parallelStream().forEach(path -> {
            try (MapFd map = Pins.openMap(path)) {
                if (map == null) return;
                MapInfo info = map.info();
                pins.computeIfAbsent(info.id(), k -> new CopyOnWriteArrayList<>()).add(path);
                if (charges.containsKey(info.id()) && !facts.containsKey(info.id()))
                    facts.putIfAbsent(info.id(), facts(map, info));
            }
        });
        charges.keySet().parallelStream().filter(id -> !facts.containsKey(id)).forEach(id -> {
            Facts f = facts(id);
            if (f != null) facts.put(id, f);
        });
        Map<Integer, List<MapRecord.Slot>> slots = new HashMap<>();
        facts.values().forEach(f -> f.slots.forEach((inner, s) -> slots.computeIfAbsent(inner, k -> new ArrayList<>()).addAll(s)));
        Map<Integer, List<MapRecord.ProgramHolder>> progs = programHolders();
        Map<Integer, List<MapRecord.ProcessHolder>> procs = Holders.processes();
        Memcgs memcgs = new Memcgs(hierarchy);

        List<MapRecord> maps = new ArrayList<>(facts.size());
        for (Facts f : facts.values()) {
            int id = f.info.id();
            maps.add(new MapRecord(f.info, f.bytes, memcgs.resolve(charges.get(id)),
                    sorted(pins.get(id)), List.copyOf(slots.getOrDefault(id, List.of())),
                    List.copyOf(procs.getOrDefault(id, List.of())), List.copyOf(progs.getOrDefault(id, List.of()))));
        }
        maps.sort((a, b) -> Integer.compare(a.id(), b.id()));
        return Snapshot.of(at, Duration.ofNanos(System.nanoTime() - t0), maps, memcgs::total);
    }

    private static List<String> sorted(List<String> l) {
        return l == null ? List.of() : l.stream().sorted().toList();
    }

    /** What one map fd tells: info, bytes, and for a map-of-maps which inner map sits in which slot. */
    private record Facts(MapInfo info, long bytes, Map<Integer, List<MapRecord.Slot>> slots) {}

    private static Facts facts(int id) {
        try (MapFd fd = MapFd.byId(id)) {
            return facts(fd, fd.info());
        } catch (BpfException e) {
            if (e.errno() == Errno.ENOENT) return null; // freed since the iterator saw it
            throw e;
        }
    }

    private static Facts facts(MapFd fd, MapInfo info) {
        Map<Integer, List<MapRecord.Slot>> slots = info.type().isMapOfMaps() ? OuterSlots.read(fd, info) : Map.of();
        return new Facts(info, fd.memlock(), slots);
    }

    private static Map<Integer, List<MapRecord.ProgramHolder>> programHolders() {
        Map<Integer, List<MapRecord.ProgramHolder>> holders = new HashMap<>();
        for (int id : ProgFd.ids()) {
            ProgInfo info;
            try (ProgFd fd = ProgFd.byId(id)) {
                info = fd.info();
            } catch (BpfException e) {
                if (e.errno() == Errno.ENOENT) continue;
                throw e;
            }
            for (int mapId : info.mapIds())
                holders.computeIfAbsent(mapId, k -> new ArrayList<>()).add(new MapRecord.ProgramHolder(info.id(), info.name()));
        }
        return holders;
    }

    @Override
    public void close() { iterator.close(); }
}
