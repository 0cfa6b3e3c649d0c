package io.bpfcharge.cli;

import io.bpfcharge.inventory.Snapshot;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.util.concurrent.Callable;

@Command(name = "cgroups", description = {
        "One row per memory cgroup that holds BPF charges (largest first by default), with totals.",
        "USAGE-NO-BPF: the usage less the BPF bytes, what an OOM policy would see if they were charged elsewhere.",
        "STATE: online or offline (removed), populated or empty (no tasks), interior (tasks only in child cgroups), reparented (holds charges moved up from a removed child).",
        "STRANDED: BPF bytes no OOM kill in the cgroup frees: all of them when it is empty, offline or interior, else those reparented from a removed child.",
        "SURVIVES-KILL: BPF bytes that killing every task in the cgroup's subtree would not free (pinned, held from outside)."})
final class CgroupsCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Mixin TableOutput output;

    @Option(names = "--cgroup", paramLabel = "PATH",
            description = "Only this memory cgroup and those below it (as /proc/PID/cgroup writes it, or its directory); totals over them.")
    String cgroup;

    @Option(names = "--sort", paramLabel = "bytes|cgroup", defaultValue = "bytes", converter = Sort.CgroupsConverter.class,
            description = "Row order (default: ${DEFAULT-VALUE}, largest first); cgroup: by path.")
    Sort.Cgroups sort;

    @Override
    public Integer call() {
        Snapshot s = Scan.within(cgroup);
        new CgroupsPrinter(sort, output.width()).print(spec.commandLine().getOut(), output.json, s);
        return 0;
    }
}
