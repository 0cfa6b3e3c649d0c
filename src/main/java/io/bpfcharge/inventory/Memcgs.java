package io.bpfcharge.inventory;

import io.bpfcharge.bpf.MapCharge;
import io.bpfcharge.cgroup.CgroupIndex;
import io.bpfcharge.cgroup.MemoryHierarchy;

import java.util.HashMap;
import java.util.Map;

/** Turns the iterator's cgroup ids into {@link Memcg}s, reading each cgroup's files once per scan. */
final class Memcgs {
    private final MemoryHierarchy hierarchy;
    private final CgroupIndex index;
    private final Map<Long, Memcg> resolved = new HashMap<>();

    Memcgs(MemoryHierarchy hierarchy, CgroupIndex index) {
        this.hierarchy = hierarchy;
        this.index = index;
    }

    Memcg resolve(MapCharge c) {
        if (c == null || !c.charged()) return null;
        return resolved.computeIfAbsent(c.cgroupId(), id -> {
            String path = c.online() ? index.path(id) : null;
            if (path != null) {
                boolean populated = hierarchy.populated(path);
                return new Memcg(id, path, true, populated, populated && hierarchy.processes(path).isEmpty() && hierarchy.hasChildren(path));
            }
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
