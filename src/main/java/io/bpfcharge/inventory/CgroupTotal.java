package io.bpfcharge.inventory;

import java.util.OptionalLong;

/**
 * BPF charges summed for one memcg, next to what its memory files say.
 * @param usage memory.current (v2) or memory.usage_in_bytes (v1); empty when offline
 * @param limit the hard limit; empty when unlimited or offline
 * @param freedByKillBytes BPF bytes of maps that a kill of every task in the cgroup's subtree would free ({@link Fate})
 * @param reparentedBytes BPF bytes of maps that were charged to a child cgroup since removed ({@link Origin})
 */
public record CgroupTotal(Memcg memcg, long bpfBytes, int maps, OptionalLong usage, OptionalLong limit, long freedByKillBytes,
                          long reparentedBytes) {
    public CgroupTotal(Memcg memcg, long bpfBytes, int maps, OptionalLong usage, OptionalLong limit, long freedByKillBytes) {
        this(memcg, bpfBytes, maps, usage, limit, freedByKillBytes, 0);
    }

    /** BPF bytes that stay charged here after every task in the subtree is killed: pinned or held elsewhere. */
    public long survivingKillBytes() { return bpfBytes - freedByKillBytes; }

    /** BPF bytes no OOM kill in this cgroup can free: all of them in a stranded cgroup, else the reparented ones. */
    public long strandedBytes() { return memcg.stranded() ? bpfBytes : reparentedBytes; }

    /** The stranded reason of the bytes that are not reparented: the cgroup's own; null when they are not stranded. */
    public String ownStrandedReason() { return memcg.strandedReason(); }

    /** One reason for the whole cgroup: its own, or "reparented" when only reparented bytes are stranded. */
    public String strandedReason() {
        if (memcg.stranded() && bpfBytes > reparentedBytes) return memcg.strandedReason();
        return reparentedBytes > 0 ? "reparented" : memcg.strandedReason();
    }

    /** What an OOM policy would see without the BPF share: usage minus BPF bytes. */
    public OptionalLong usageWithoutBpf() {
        return usage.isPresent() ? OptionalLong.of(Math.max(0, usage.getAsLong() - bpfBytes)) : OptionalLong.empty();
    }
}
