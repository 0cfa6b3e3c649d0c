package io.bpfcharge.oom;

import io.bpfcharge.cgroup.MemoryHierarchy;
import io.bpfcharge.host.HostFacts;
import io.bpfcharge.inventory.CgroupTotal;
import io.bpfcharge.inventory.Snapshot;
import oshi.hardware.GlobalMemory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Reads every leaf memcg below a cgroup as OOM policies see it, next to one inventory scan. */
public final class Leaves {
    private Leaves() {}

    /**
     * Leaves that a policy could pick or that hold BPF charges: a leaf with neither a process nor a charge
     * changes no ranking.
     */
    public static List<Leaf> read(MemoryHierarchy h, String under, Snapshot s) {
        Map<Long, CgroupTotal> charged = new HashMap<>();
        for (CgroupTotal t : s.cgroups()) if (t.memcg().online()) charged.put(t.memcg().id(), t);
        List<Leaf> out = new ArrayList<>();
        for (String path : h.leaves(under)) {
            long id;
            try {
                id = h.id(path);
            } catch (RuntimeException e) {
                continue; // removed since listed
            }
            List<Long> procs = h.processes(path);
            CgroupTotal t = charged.get(id);
            if (procs.isEmpty() && t == null) continue;
            out.add(new Leaf(path, id, io.bpfcharge.cgroup.ContainerIdentity.parse(path), h.usage(path).orElse(0),
                    h.low(path), h.min(path), h.limit(path), h.oomGroup(path), maxOomScoreAdj(procs), procs.size(),
                    t == null ? 0 : t.bpfBytes(), t == null ? 0 : t.survivingKillBytes()));
        }
        return out;
    }

    /** The largest oom_score_adj among the processes: the kernel picks the most killable first. */
    private static int maxOomScoreAdj(List<Long> pids) {
        int max = Integer.MIN_VALUE;
        for (long pid : pids) {
            try {
                max = Math.max(max, Integer.parseInt(Files.readString(Path.of("/proc/" + pid + "/oom_score_adj")).trim()));
            } catch (IOException | NumberFormatException e) {
                // exited
            }
        }
        return max == Integer.MIN_VALUE ? 0 : max;
    }

    /** RAM plus swap in bytes (/proc/meminfo, through OSHI), the total oom_score_adj is a thousandth of per point. */
    public static long totalMemory() {
        GlobalMemory m = HostFacts.memory();
        return m.getTotal() + m.getVirtualMemory().getSwapTotal();
    }
}
