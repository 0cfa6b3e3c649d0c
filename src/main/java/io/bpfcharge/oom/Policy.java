package io.bpfcharge.oom;

import java.util.Locale;

/**
 * An OOM policy, by the one figure it ranks leaf cgroups with, as read from the cgroup's own files. The
 * same figure less the BPF bytes that survive a kill is what the policy would rank by if it knew them.
 */
public enum Policy {
    /**
     * The kernel: a memcg's usage, with the oom_badness adjustment of its most killable task
     * ({@code oom_score_adj} × (RAM + swap) / 1000; -1000 on every task: never picked). The kernel ranks tasks
     * by their own pages, which hold no BPF map; usage is what a cgroup-aware kill ({@code memory.oom.group},
     * the BPF OOM policies under review upstream) ranks by.
     */
    KERNEL,
    /** oomd's kill_by_memory_size_or_growth: the child with the largest {@code memory.current - memory.low}. */
    OOMD,
    /** systemd-oomd: among cgroups under pressure, the largest {@code memory.current}; pressure ranks first. */
    SYSTEMD_OOMD;

    /** The name on the command line and in JSON: kernel, oomd, systemd-oomd. */
    public String label() { return name().toLowerCase(Locale.ROOT).replace('_', '-'); }

    /**
     * What this policy ranks a candidate by, given the memory it counts for the cgroup ({@code usage}, or usage
     * less surviving BPF bytes). Null when the policy never picks it.
     * @param totalMemory RAM plus swap, which scales oom_score_adj
     */
    Long figure(Leaf l, long memory, long totalMemory) {
        if (l.processes() == 0) return null; // nothing to kill: no policy frees anything there
        return switch (this) {
            case KERNEL -> {
                if (l.oomScoreAdj() <= -1000) yield null;
                yield Math.max(1, memory + l.oomScoreAdj() * (totalMemory / 1000));
            }
            case OOMD -> Math.max(0, memory - Math.max(l.low().orElse(0), l.min().orElse(0)));
            case SYSTEMD_OOMD -> memory;
        };
    }

    public static Policy parse(String s) {
        for (Policy p : values()) if (p.label().equals(s)) return p;
        return null;
    }
}
