package io.bpfcharge.cli;

import io.bpfcharge.BpfchargeException;
import io.bpfcharge.BpfchargeException.Exit;
import io.bpfcharge.cgroup.MemoryHierarchy;
import io.bpfcharge.inventory.Snapshot;
import io.bpfcharge.migrate.Requests;
import io.bpfcharge.oom.Leaves;
import io.bpfcharge.oom.Policy;
import io.bpfcharge.oom.Ranking;
import io.bpfcharge.oom.Reserve;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.util.concurrent.Callable;

@Command(name = "oom", description = {
        "Leaf memory cgroups as an OOM policy ranks them, and as it would if it knew which BPF bytes survive a kill.",
        "SCORE: what the policy ranks by (kernel: usage with oom_score_adj; oomd: memory.current - memory.low; systemd-oomd: memory.current).",
        "SURVIVES-KILL: BPF bytes a kill would not free (pinned, held outside). NET-SCORE: SCORE less SURVIVES-KILL.",
        "RANK ranks by SCORE, NET-RANK by NET-SCORE: 1 = the victim.",
        "VICTIM: the victim by both, by SCORE only (now), or by NET-SCORE only (net victim).",
        "repeated OOM: a limited cgroup where a kill frees less than --reserve of its limit (the BPF bytes survive it)."})
final class OomCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Mixin TableOutput output;

    @Option(names = "--policy", paramLabel = "kernel|oomd|systemd-oomd", defaultValue = "kernel",
            description = "The policy whose figure is ranked (default: ${DEFAULT-VALUE}).")
    String policy;

    @Option(names = "--cgroup", paramLabel = "PATH",
            description = "Only leaves below this memory cgroup (an oomd or systemd-oomd monitored cgroup, a pod); default: all.")
    String cgroup;

    @Option(names = "--reserve", paramLabel = "PERCENT", defaultValue = "25", converter = MigrateCommand.ReserveConverter.class,
            description = "Mark a limited cgroup whose surviving BPF bytes leave its processes less than this share of "
                    + "its limit: it is OOM-killed over and over, each kill freeing only their pages (default: ${DEFAULT-VALUE}).")
    Reserve reserve;

    @Override
    public Integer call() {
        Policy p = Policy.parse(policy);
        if (p == null) throw new BpfchargeException(Exit.USAGE, "--policy " + policy + " is not one of kernel, oomd, systemd-oomd");
        MemoryHierarchy h = MemoryHierarchy.detect();
        String under = cgroup == null ? "/" : Requests.cgroup(h, cgroup);
        Snapshot s = Scan.once();
        Ranking r = Ranking.of(p, Leaves.read(h, under, s), Leaves.totalMemory());
        new OomPrinter(output.width(), reserve).print(spec.commandLine().getOut(), output.json, r);
        return 0;
    }
}
