package io.bpfcharge.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.util.concurrent.Callable;

@Command(name = "cgroups", description = {
        "One row per memory cgroup that holds BPF charges, largest first, with totals.",
        "STRANDED: BPF bytes charged to a cgroup with no tasks (empty) or removed (offline): no OOM kill frees them.",
        "USAGE-BPF: the usage an OOM policy would see if the BPF share were charged elsewhere.",
        "SURVIVES-KILL: BPF bytes that killing every task in the cgroup's subtree would not free (pinned, held from outside)."})
final class CgroupsCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--json", description = "Print JSON (schema in docs/json.md).")
    boolean json;

    @Override
    public Integer call() {
        new CgroupsPrinter().print(spec.commandLine().getOut(), json, Scan.once());
        return 0;
    }
}
