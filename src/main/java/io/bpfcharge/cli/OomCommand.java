package io.bpfcharge.cli;

import io.bpfcharge.BpfchargeException;
import io.bpfcharge.BpfchargeException.Exit;
import io.bpfcharge.cgroup.MemoryHierarchy;
import io.bpfcharge.inventory.Snapshot;
import io.bpfcharge.oom.Leaves;
import io.bpfcharge.oom.Policy;
import io.bpfcharge.oom.Ranking;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.util.concurrent.Callable;

@Command(name = "oom", description = {
        "Leaf memory cgroups as an OOM policy ranks them, and as it would if it knew which BPF bytes survive a kill.",
        "FIGURE: what the policy reads (kernel: usage with oom_score_adj; oomd: memory.current - memory.low;",
        "systemd-oomd: memory.current). ADJUSTED: the same less BPF bytes a kill would not free (pinned, held outside).",
        "RANK/ADJ: 1 = the victim. A mark shows where the victim changes."})
final class OomCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--json", description = "Print JSON (schema in docs/json.md).")
    boolean json;

    @Option(names = "--policy", paramLabel = "kernel|oomd|systemd-oomd", defaultValue = "kernel",
            description = "The policy whose figure is ranked (default: ${DEFAULT-VALUE}).")
    String policy;

    @Option(names = "--cgroup", paramLabel = "PATH",
            description = "Only leaves below this memory cgroup (an oomd or systemd-oomd monitored cgroup, a pod); default: all.")
    String cgroup;

    @Override
    public Integer call() {
        Policy p = Policy.parse(policy);
        if (p == null) throw new BpfchargeException(Exit.USAGE, "--policy " + policy + " is not one of kernel, oomd, systemd-oomd");
        String under = cgroup == null ? "/" : MapsCommand.checkedPath(cgroup);
        Snapshot s = Scan.once();
        MemoryHierarchy h = MemoryHierarchy.detect();
        Ranking r = Ranking.of(p, Leaves.read(h, under, s), Leaves.totalMemory());
        new OomPrinter(Terminal.columns()).print(spec.commandLine().getOut(), json, r);
        return 0;
    }
}
