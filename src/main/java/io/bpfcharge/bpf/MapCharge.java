package io.bpfcharge.bpf;

import java.util.OptionalLong;

/**
 * One map as the map_memcg iterator (bpf/inventory.bpf.c) read it from struct bpf_map: its attributes and the memory cgroup it is charged to.
 * @param info the map's attributes, as {@link MapFd#info()} would give them except {@code ifindex} (always 0:
 *             only device-offloaded maps have one, and finding those would need a kallsyms lookup per load);
 *             create a twin from {@link MapFd#info()}
 * @param cgroupId the memcg's cgroup id (= inode of its directory), 0 when not charged
 * @param parentCgroupId the parent's cgroup id, to place an offline memcg
 * @param cgroupName the memcg directory's own name, in {@link io.bpfcharge.FileNames} text (empty for a hierarchy root)
 * @param arenaPages an arena's allocated pages, counted in its free-range tree (6.13+); empty for other maps and
 *                   where the kernel keeps no such tree. The kernel charges them to the memcg but reports a
 *                   memlock of 0
 */
public record MapCharge(MapInfo info, boolean charged, boolean online, long cgroupId, long parentCgroupId,
                        String cgroupName, OptionalLong arenaPages) {
    public int mapId() { return info.id(); }

    /** The arena's allocated bytes, where counted. */
    public OptionalLong arenaBytes() {
        return arenaPages.isPresent() ? OptionalLong.of(arenaPages.getAsLong() * Libc.PAGE_SIZE) : OptionalLong.empty();
    }
}
