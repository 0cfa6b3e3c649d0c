package io.bpfcharge.bpf;

import java.util.List;

/**
 * A kernel map type. Kept as the kernel's number so that types newer than this
 * build survive a scan; {@link #name()} is the kernel's lowercase name (as bpftool prints it).
 */
public record MapType(int value) {
    // Index = enum bpf_map_type value (include/uapi/linux/bpf.h).
    private static final List<String> NAMES = List.of("unspec", "hash", "array", "prog_array", "perf_event_array",
            "percpu_hash", "percpu_array", "stack_trace", "cgroup_array", "lru_hash", "lru_percpu_hash", "lpm_trie",
            "array_of_maps", "hash_of_maps", "devmap", "sockmap", "cpumap", "xskmap", "sockhash", "cgroup_storage",
            "reuseport_sockarray", "percpu_cgroup_storage", "queue", "stack", "sk_storage", "devmap_hash", "struct_ops",
            "ringbuf", "inode_storage", "task_storage", "bloom_filter", "user_ringbuf", "cgrp_storage", "arena");

    public static final MapType HASH = new MapType(1), ARRAY = new MapType(2), PERCPU_HASH = new MapType(5),
            PERCPU_ARRAY = new MapType(6), LRU_HASH = new MapType(9), LRU_PERCPU_HASH = new MapType(10),
            LPM_TRIE = new MapType(11), ARRAY_OF_MAPS = new MapType(12), HASH_OF_MAPS = new MapType(13),
            QUEUE = new MapType(22), STACK = new MapType(23), BLOOM_FILTER = new MapType(30), ARENA = new MapType(33);

    /** One instance per known type, shared by every map of it (a scan makes one MapInfo per map). */
    private static final MapType[] KNOWN = java.util.stream.IntStream.range(0, NAMES.size()).mapToObj(MapType::new).toArray(MapType[]::new);

    /** The type numbered {@code value}, shared when the kernel's number is known to this build. */
    public static MapType of(int value) {
        return value >= 0 && value < KNOWN.length ? KNOWN[value] : new MapType(value);
    }

    public String name() {
        return value >= 0 && value < NAMES.size() ? NAMES.get(value) : "type_" + value;
    }

    public static MapType byName(String name) {
        int i = NAMES.indexOf(name);
        if (i < 0) throw new IllegalArgumentException("unknown map type: " + name);
        return KNOWN[i];
    }

    public boolean isMapOfMaps() { return equals(ARRAY_OF_MAPS) || equals(HASH_OF_MAPS); }

    /** Values are per possible CPU when read or written from user space. */
    public boolean isPerCpu() { return equals(PERCPU_HASH) || equals(PERCPU_ARRAY) || equals(LRU_PERCPU_HASH); }

    /** LRU maps evict entries instead of refusing inserts when their free lists run out. */
    public boolean isLru() { return equals(LRU_HASH) || equals(LRU_PERCPU_HASH); }

    private static final int BPF_F_NO_COMMON_LRU = 1 << 1;

    /** An LRU map with one list per CPU, max_entries / possible CPUs long: an entry goes to the writing CPU's list. */
    public boolean lruListPerCpu(int mapFlags) { return isLru() && (mapFlags & BPF_F_NO_COMMON_LRU) != 0; }

    /** Every index from 0 to max_entries-1 always exists; entries cannot be deleted. */
    public boolean isArray() { return equals(ARRAY) || equals(PERCPU_ARRAY) || equals(ARRAY_OF_MAPS); }

    private static final int BPF_F_NO_PREALLOC = 1;
    // array, prog_array, perf_event_array, percpu_array, cgroup_array, array_of_maps, queue, stack, ringbuf,
    // bloom_filter, user_ringbuf: sized at creation. Other types grow with their entries (or are not known here).
    private static final java.util.Set<Integer> SIZED_AT_CREATION = java.util.Set.of(2, 3, 4, 6, 8, 12, 22, 23, 27, 30, 31);
    private static final java.util.Set<Integer> HASHES = java.util.Set.of(1, 5, 9, 10, 13);

    /**
     * Whether fdinfo's memlock for a map of this type stays what it was at creation. Since 6.4 it is the
     * map's own count (map_mem_usage), which for a hash without preallocation, an LPM trie or a local
     * storage follows the entries; before 6.4 it is an estimate from the attributes alone.
     */
    public boolean memlockFixed(int mapFlags) {
        return SIZED_AT_CREATION.contains(value) || (HASHES.contains(value) && (mapFlags & BPF_F_NO_PREALLOC) == 0);
    }

    @Override
    public String toString() { return name(); }
}
