package io.bpfcharge.cgroup;

import java.util.Map;

/**
 * Cgroup id to path, kept across scans: walking the whole hierarchy again for every scan costs more
 * than the rest of a daemon's scan. A path is checked against its id when used, and the index is
 * walked again when an id is missing or a path now names another cgroup (removed and made again).
 */
public final class CgroupIndex {
    private final MemoryHierarchy hierarchy;
    private Map<Long, String> paths = Map.of();

    public CgroupIndex(MemoryHierarchy hierarchy) { this.hierarchy = hierarchy; }

    /** The path of the cgroup with this id now, or null when there is none. */
    public synchronized String path(long id) {
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
