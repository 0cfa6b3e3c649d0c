package io.bpfcharge.inventory;

import io.bpfcharge.bpf.FdInfo;
import io.bpfcharge.bpf.ReferenceIterators.FileRef;
import io.bpfcharge.bpf.ReferenceIterators.Kind;
import io.bpfcharge.bpf.ReferenceIterators.Walk;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongFunction;

/**
 * Which maps a kill would free: for each charged map, whether every reference to it would go if every task
 * in its memcg's subtree died. The reference graph: a map is kept by its pins, the processes with an fd on
 * it, the programs that use it and the map-of-maps slots that hold it; a program by its pins, fds and
 * links; a link by its pins and fds. The kernel's own reference counts close the graph: a count above the
 * references named here means something unseen keeps the object, and then it survives.
 */
final class Survival {
    private final Map<Integer, MapRecord> maps = new HashMap<>();
    private final Map<Integer, Map<Long, FileRef>> mapFiles = new HashMap<>(), progFiles = new HashMap<>();
    /** Program id -> link id -> the link's open files. */
    private final Map<Integer, Map<Integer, Map<Long, FileRef>>> links = new HashMap<>();
    private final Map<Integer, Long> progRefcnts = new HashMap<>(), linkRefcnts = new HashMap<>();
    private final Set<Integer> pinnedProgs = new HashSet<>();
    private final Map<Integer, Long> mapRefcnts;
    private final LongFunction<String> cgroupOf;
    private final Map<Long, String> pidPaths = new HashMap<>();
    /** (memcg id, program id) -> freed by a kill of that memcg's subtree. */
    private final Map<List<Long>, Boolean> progFreed = new HashMap<>();

    /**
     * @param pinned programs and links pinned in bpffs
     * @param cgroupOf a process's memcg path, null when it has exited
     */
    private Survival(List<MapRecord> all, Walk walk, List<FdInfo.ProgramOrLink> pinned, LongFunction<String> cgroupOf) {
        all.forEach(m -> maps.put(m.id(), m));
        this.mapRefcnts = walk.mapRefcnts();
        this.cgroupOf = cgroupOf;
        for (FileRef f : walk.files()) {
            switch (f.kind()) {
                case MAP -> mapFiles.computeIfAbsent(f.id(), k -> new HashMap<>()).put(f.file(), f);
                case PROG -> {
                    progFiles.computeIfAbsent(f.id(), k -> new HashMap<>()).put(f.file(), f);
                    progRefcnts.put(f.id(), f.refcnt());
                }
                case LINK -> {
                    if (f.progId() == 0) continue; // detached: keeps no program
                    links.computeIfAbsent(f.progId(), k -> new HashMap<>()).computeIfAbsent(f.id(), k -> new HashMap<>()).put(f.file(), f);
                    linkRefcnts.put(f.id(), f.refcnt());
                    progRefcnts.put(f.progId(), f.progRefcnt());
                }
            }
        }
        for (FdInfo.ProgramOrLink p : pinned) pinnedProgs.add(p.kind() == Kind.LINK ? p.progId() : p.id());
    }

    /** The fate of every map charged to a memcg, by map id. */
    static Map<Integer, Fate> of(List<MapRecord> maps, Walk walk, List<FdInfo.ProgramOrLink> pinned, LongFunction<String> cgroupOf) {
        Survival s = new Survival(maps, walk, pinned, cgroupOf);
        Map<Integer, Fate> fates = HashMap.newHashMap(maps.size());
        for (MapRecord m : maps) if (m.memcg() != null) fates.put(m.id(), s.fate(m, m.memcg()));
        return fates;
    }

    /** What a kill of {@code killed}'s subtree does to map {@code m} (not necessarily charged there: an outer map). */
    private Fate fate(MapRecord m, Memcg killed) {
        if (m.pinned()) return Fate.PINNED;
        Map<Long, FileRef> files = mapFiles.getOrDefault(m.id(), Map.of());
        for (FileRef f : files.values()) if (!inside(f.pid(), killed)) return Fate.HELD_OUTSIDE;
        for (MapRecord.ProgramHolder p : m.programs()) if (!programFreed(p.id(), killed)) return Fate.PROGRAM_KEPT;
        for (MapRecord.Slot slot : m.outer()) {
            MapRecord outer = maps.get(slot.outerId());
            if (outer == null) return Fate.UNSEEN_REFERENCE; // freed mid-scan, or a slot the scan did not read
            if (!fate(outer, killed).freed()) return Fate.OUTER_KEPT;
        }
        // Each fd's file, each program using it and each slot holding it is one reference.
        Long refcnt = mapRefcnts.get(m.id());
        int named = files.size() + m.programs().size() + m.outer().size();
        return refcnt == null || refcnt > named ? Fate.UNSEEN_REFERENCE : Fate.FREED;
    }

    private boolean programFreed(int prog, Memcg killed) {
        return progFreed.computeIfAbsent(List.of(killed.id(), (long) prog), k -> {
            if (pinnedProgs.contains(prog)) return false;
            Map<Long, FileRef> files = progFiles.getOrDefault(prog, Map.of());
            for (FileRef f : files.values()) if (!inside(f.pid(), killed)) return false;
            Map<Integer, Map<Long, FileRef>> progLinks = links.getOrDefault(prog, Map.of());
            for (var link : progLinks.entrySet()) {
                for (FileRef f : link.getValue().values()) if (!inside(f.pid(), killed)) return false;
                if (linkRefcnts.get(link.getKey()) > link.getValue().size()) return false; // pinned, or held unseen
            }
            // Seen through no fd at all: only something unseen (an attachment) can be keeping it.
            Long refcnt = progRefcnts.get(prog);
            return refcnt != null && refcnt <= files.size() + progLinks.size();
        });
    }

    /** Whether a process lives in the subtree of a memcg; an offline memcg has no tasks. */
    private boolean inside(long pid, Memcg killed) {
        if (!killed.online()) return false;
        String path = pidPaths.computeIfAbsent(pid, cgroupOf::apply);
        if (path == null) return false;
        String top = killed.path();
        return path.equals(top) || top.equals("/") || path.startsWith(top + "/");
    }

}
