package io.bpfcharge.bpf;

/**
 * Which memory cgroup a map is charged to, as the map_memcg iterator read it from struct bpf_map.
 * @param cgroupId the memcg's cgroup id (= inode of its directory), 0 when not charged
 * @param parentCgroupId the parent's cgroup id, to place an offline memcg
 * @param cgroupName the memcg directory's own name (empty for a hierarchy root)
 */
public record MapCharge(int mapId, boolean charged, boolean online, long cgroupId, long parentCgroupId,
                        String cgroupName) {
    /** Size of one record written by bpf/map_memcg.bpf.c. */
    static final int RECORD = 88;
}
