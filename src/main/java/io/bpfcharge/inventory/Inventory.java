package io.bpfcharge.inventory;

import io.bpfcharge.bpffs.Pins;
import io.bpfcharge.cgroup.CgroupIndex;
import io.bpfcharge.bpf.Bpffs;
import io.bpfcharge.bpf.MapCharge;
import io.bpfcharge.bpf.MapFd;
import io.bpfcharge.bpf.MapInfo;
import io.bpfcharge.bpf.InventoryIterators;
import io.bpfcharge.bpf.ProgFd;
import io.bpfcharge.bpf.ProgInfo;
import io.bpfcharge.bpf.ReferenceIterators;
import io.bpfcharge.cgroup.CgroupException;
import io.bpfcharge.cgroup.MemoryHierarchy;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Scans every BPF map in the system into a {@link Snapshot}: attributes and owner memcg (the map_memcg
 * iterator, one read for all maps), bytes (fdinfo memlock), pins (bpffs walk), outer slots (map-of-maps
 * contents), holders (the map_holders iterator over every process's fds, and programs' map ids).
 * Maps that vanish mid-scan are skipped.
 * Holds the loaded iterators and what cannot change between scans (which map a pin holds, the bytes of
 * a map sized at creation), so one instance serves many scans cheaply: the daemon keeps one. Scans of
 * one instance run one at a time, since each updates what it remembers.
 */
public final class Inventory implements AutoCloseable {
    private final MemoryHierarchy hierarchy;
    private final InventoryIterators iterators;
    private final ReferenceIterators references;
    private final PinIndex pins = new PinIndex();
    /** Bytes of maps whose memlock never changes ({@link io.bpfcharge.bpf.MapType#memlockFixed}), by id. */
    private final Map<Integer, Sized> sized = new ConcurrentHashMap<>();
    private final CgroupIndex memcgIndex;

    private record Sized(MapInfo info, long bytes) {}

    public Inventory(MemoryHierarchy hierarchy) {
        this.hierarchy = hierarchy;
        this.memcgIndex = new CgroupIndex(hierarchy);
        this.iterators = InventoryIterators.open();
        try {
            this.references = ReferenceIterators.open();
        } catch (RuntimeException e) {
            iterators.close();
            throw e;
        }
    }

    public MemoryHierarchy hierarchy() { return hierarchy; }

    /** The loaded iterators, for callers that need a fresh walk between scans (a migration's holder checks). */
    public InventoryIterators iterators() { return iterators; }

    public synchronized Snapshot scan() {
        long t0 = System.nanoTime();
        Instant at = Instant.now();
        // The bpffs walk and the iterator each take a few milliseconds with 10,000 maps: run them side by side.
        CompletableFuture<List<Bpffs.Pin>> listing = CompletableFuture.supplyAsync(Pins::files);
        Map<Integer, MapCharge> charges = iterators.maps();
        Map<Integer, Facts> facts = new ConcurrentHashMap<>();
        // A map first seen through a pin is measured from the pin's fd: opening it again by id would double its syscalls.
        Map<Integer, List<String>> pinned = pins.resolve(join(listing), map -> {
            MapCharge c = charges.get(map.fdinfo().mapId());
            if (c != null && !facts.containsKey(c.mapId()))
                facts.putIfAbsent(c.mapId(), facts(map.fd(), c.info(), map.fdinfo().memlock()));
        });
        sized.keySet().retainAll(charges.keySet());
        charges.values().parallelStream().filter(c -> !facts.containsKey(c.mapId())).forEach(c -> {
            Facts f = known(c.info());
            if (f == null) f = facts(c.info());
            if (f != null) facts.put(c.mapId(), f);
        });
        Map<Integer, List<MapRecord.Slot>> slots = new HashMap<>();
        facts.values().forEach(f -> f.slots.forEach((inner, s) -> slots.computeIfAbsent(inner, k -> new ArrayList<>()).addAll(s)));
        Map<Integer, List<MapRecord.ProgramHolder>> progs = programHolders();
        Map<Integer, List<MapRecord.ProcessHolder>> procs = Holders.processes(iterators.holders(), processFacts);
        Memcgs memcgs = new Memcgs(hierarchy, memcgIndex);

        List<MapRecord> maps = new ArrayList<>(facts.size());
        for (MapCharge c : charges.values()) { // in id order, as the iterator walked them
            Facts f = facts.get(c.mapId());
            if (f == null) continue; // freed since the iterator saw it
            int id = c.mapId();
            // An arena's memlock is 0 while its allocated pages are charged: the iterator counted them.
            maps.add(new MapRecord(f.info, c.arenaBytes().orElse(f.bytes), memcgs.resolve(c),
                    sorted(pinned.get(id)), List.copyOf(slots.getOrDefault(id, List.of())),
                    List.copyOf(procs.getOrDefault(id, List.of())), List.copyOf(progs.getOrDefault(id, List.of()))));
        }
        // Walked last, when this scan holds no fd of its own: every reference counted is someone else's.
        Map<Integer, Fate> fates = Survival.of(maps, references.walk(), pins.programsAndLinks(), this::cgroupOf);
        return Snapshot.of(at, Duration.ofNanos(System.nanoTime() - t0), maps, memcgs::total, fates, reparented(maps));
    }

    private volatile boolean processFacts = true;

    /**
     * Whether a scan reads who runs each holder (user, command line, start: a few /proc reads per process) for
     * outputs that print it; off in the daemon, whose metrics do not, and whose messages read it when they name one.
     */
    public void processFacts(boolean read) { this.processFacts = read; }

    /** Where the maps were first charged, as the node agent recorded it (none by default). */
    private volatile Supplier<Map<Integer, Origin>> origins = Map::of;

    /** Reads first-charged cgroups from {@code origins} at each scan (the node agent's state file). */
    public void origins(Supplier<Map<Integer, Origin>> origins) { this.origins = origins; }

    /**
     * Maps charged to an ancestor of the cgroup they were first charged to, that cgroup being gone: the kernel
     * moved their charge up when it was removed (objcg reparenting, Linux 6.0+) and forgot where it came from.
     */
    private Map<Integer, Origin> reparented(List<MapRecord> maps) {
        Map<Integer, Origin> known = origins.get();
        if (known.isEmpty()) return Map.of();
        Map<Integer, Origin> out = new HashMap<>();
        Map<Long, Boolean> gone = new HashMap<>();
        for (MapRecord m : maps) {
            Origin o = known.get(m.id());
            if (o == null || m.memcg() == null || o.memcgId() == m.memcg().id()) continue;
            String at = m.memcg().path();
            if (!o.path().startsWith(at.equals("/") ? "/" : at + "/")) continue; // moved elsewhere (migrated), not up
            if (gone.computeIfAbsent(o.memcgId(), id -> !sameCgroup(o))) out.put(m.id(), o);
        }
        return out;
    }

    /** Whether the origin's cgroup still exists (its path names a cgroup with its id). */
    private boolean sameCgroup(Origin o) {
        try {
            return hierarchy.exists(o.path()) && hierarchy.id(o.path()) == o.memcgId();
        } catch (CgroupException e) {
            return false;
        }
    }

    private String cgroupOf(long pid) {
        try {
            return hierarchy.cgroupOf(pid);
        } catch (CgroupException e) {
            return null; // exited
        }
    }

    private static List<String> sorted(List<String> l) {
        if (l == null) return List.of();
        return l.size() == 1 ? List.of(l.getFirst()) : l.stream().sorted().toList();
    }

    private static <T> T join(CompletableFuture<T> f) {
        try {
            return f.join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }
    }

    /** What a scan learns about a map beyond the iterator's record: bytes, and for a map-of-maps which inner map sits in which slot. */
    private record Facts(MapInfo info, long bytes, Map<Integer, List<MapRecord.Slot>> slots) {}

    /** Facts that need no fd: the map is sized at creation and an earlier scan measured it. */
    private Facts known(MapInfo info) {
        Sized s = sized.get(info.id());
        // The earlier scan's info, not this one's: one MapInfo per map stays live, not one per scan held.
        return s != null && sameMap(s.info, info) && !info.type().isMapOfMaps() ? new Facts(s.info, s.bytes, Map.of()) : null;
    }

    /**
     * Whether two infos with one id describe one map: attributes never change, so they guard only against
     * the id's reuse after 2^31 maps. Compared by hand: a record's equals runs through method handles that
     * the daemon's C1-only JIT does not inline, a microsecond per map.
     */
    private static boolean sameMap(MapInfo a, MapInfo b) {
        return a.type().value() == b.type().value() && a.keySize() == b.keySize() && a.valueSize() == b.valueSize()
                && a.maxEntries() == b.maxEntries() && a.flags() == b.flags();
    }

    private Facts facts(MapInfo info) {
        Optional<MapFd> found = MapFd.find(info.id());
        if (found.isEmpty()) return null; // freed since the iterator saw it
        try (MapFd fd = found.get()) {
            return facts(fd, info, fd.memlock());
        }
    }

    private Facts facts(MapFd fd, MapInfo info, long bytes) {
        Map<Integer, List<MapRecord.Slot>> slots = info.type().isMapOfMaps() ? OuterSlots.read(fd, info) : Map.of();
        if (info.type().memlockFixed(info.flags())) sized.put(info.id(), new Sized(info, bytes));
        return new Facts(info, bytes, slots);
    }

    private static Map<Integer, List<MapRecord.ProgramHolder>> programHolders() {
        Map<Integer, List<MapRecord.ProgramHolder>> holders = new HashMap<>();
        for (ProgInfo info : ProgFd.loaded()) {
            for (int mapId : info.mapIds())
                holders.computeIfAbsent(mapId, k -> new ArrayList<>()).add(new MapRecord.ProgramHolder(info.id(), info.name()));
        }
        return holders;
    }

    @Override
    public void close() {
        references.close();
        iterators.close();
    }
}
