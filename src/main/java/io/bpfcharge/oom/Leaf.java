package io.bpfcharge.oom;

import io.bpfcharge.cgroup.ContainerIdentity;

import java.util.Optional;
import java.util.OptionalLong;

/**
 * A leaf memory cgroup (a container, a service) with what OOM policies read from its files and what bpfcharge
 * adds: the BPF bytes charged to it and how many of them would survive a kill of its tasks.
 * @param usage memory.current (v2) or memory.usage_in_bytes (v1)
 * @param low memory.low, v2 only
 * @param min memory.min, v2 only
 * @param limit memory.max (v2) or memory.limit_in_bytes (v1); empty when unlimited
 * @param oomGroup memory.oom.group, v2 only
 * @param oomScoreAdj the largest oom_score_adj of its processes (the one the kernel would pick first); 0 when none
 * @param processes processes directly in it
 */
public record Leaf(String path, long id, ContainerIdentity identity, long usage, OptionalLong low, OptionalLong min,
                   OptionalLong limit, Optional<Boolean> oomGroup, int oomScoreAdj, int processes, long bpfBytes,
                   long survivingKillBytes) {
    /** The most a kill of every task here can free under its limit; empty when unlimited. */
    public OptionalLong killRoom() {
        return limit.isEmpty() ? OptionalLong.empty() : OptionalLong.of(Reserve.killRoom(limit.getAsLong(), survivingKillBytes));
    }

    /** Limited, and the BPF bytes a kill leaves behind take more of the limit than {@code reserve} allows. */
    public boolean repeatedOom(Reserve reserve) {
        return limit.isPresent() && reserve.breached(limit.getAsLong(), survivingKillBytes);
    }
}
