package io.bpfcharge.inventory;

import java.util.OptionalLong;

/**
 * BPF charges summed for one memcg, next to what its memory files say.
 * @param usage memory.current (v2) or memory.usage_in_bytes (v1); empty when offline
 * @param limit the hard limit; empty when unlimited or offline
 * @param freedByKillBytes BPF bytes of maps that a kill of every task in the cgroup's subtree would free ({@link Fate})
 */
public record CgroupTotal(Memcg memcg, long bpfBytes, int maps, OptionalLong usage, OptionalLong limit, long freedByKillBytes) {
    /** BPF bytes that stay charged here after every task in the subtree is killed: pinned or held elsewhere. */
    public long survivingKillBytes() { return bpfBytes - freedByKillBytes; }

    /** BPF bytes no OOM kill in this cgroup can free. */
    public long strandedBytes() { return memcg.stranded() ? bpfBytes : 0; }

    /** What an OOM policy would see without the BPF share: usage minus BPF bytes. */
    public OptionalLong usageWithoutBpf() {
        return usage.isPresent() ? OptionalLong.of(Math.max(0, usage.getAsLong() - bpfBytes)) : OptionalLong.empty();
    }
}
