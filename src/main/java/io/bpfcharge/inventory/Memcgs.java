package io.bpfcharge.inventory;

import io.bpfcharge.bpf.MapCharge;
import io.bpfcharge.cgroup.CgroupException;
import io.bpfcharge.cgroup.MemoryHierarchy;

import java.util.HashMap;
import java.util.Map;

/** Turns the iterator's cgroup ids into {@link Memcg}s, reading each cgroup's files once per scan. */
final class Memcgs {
    private final MemoryHierarchy hierarchy;
    private final Index index;
    private final Map<Long, Memcg> resolved = new HashMap<>();

    Memcgs(MemoryHierarchy hierarchy, Index index) {
        this.hierarchy = hierarchy;
        this.index = index;
    }

    /**
     * Cgroup id to path, kept across scans: walking the whole hierarchy again for every scan costs more
     * than the rest of a daemon's scan. A path is checked against its id when used, and the index is
     * walked again when an id is missing or a path now names another cgroup (removed and made again).
     */
    static final class Index {
        private final MemoryHierarchy hierarchy;
        private Map<Long, String> paths = Map.of();

        Index(MemoryHierarchy hierarchy) { this.hierarchy = hierarchy; }

        synchronized String path(long id) {
            String p = paths.get(id);
            if (p != null && idOf(p) == id) return p;
            paths = hierarchy.idIndex();
            return paths.get(id);
        }

        private long idOf(String path) {
            try {
                return hierarchy.id(path);
            } catch (CgroupException e) {
                return -1; // removed
            }
        }
    }

    Memcg resolve(MapCharge c) {
        if (c == null || !c.charged()) return null;
        return resolved.computeIfAbsent(c.cgroupId(), id -> {
            String path = c.online() ? index.path(id) : null;
            if (path != null) return new Memcg(id, path, true, hierarchy.populated(path));
            // Offline: the directory is gone, so name it from its parent and its own kernfs name.
            String parent = index.path(c.parentCgroupId());
            String guess = parent == null ? "(offline cgroup " + id + ")"
                    : (parent.equals("/") ? "" : parent) + "/" + c.cgroupName();
            return new Memcg(id, guess, false, false);
        });
    }

    CgroupTotal total(Memcg m) {
        if (!m.online()) return new CgroupTotal(m, 0, 0, java.util.OptionalLong.empty(), java.util.OptionalLong.empty(), 0);
        return new CgroupTotal(m, 0, 0, hierarchy.usage(m.path()), hierarchy.limit(m.path()), 0);
    }
}
