package io.bpfcharge.cli;

import io.bpfcharge.inventory.CgroupTotal;
import io.bpfcharge.inventory.Snapshot;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.OptionalLong;
import java.util.concurrent.Callable;

@Command(name = "cgroups", description = {
        "One row per memory cgroup that holds BPF charges, largest first, with totals.",
        "STRANDED: BPF bytes charged to a cgroup with no tasks (empty) or removed (offline): no OOM kill frees them.",
        "USAGE-BPF: the usage an OOM policy would see if the BPF share were charged elsewhere.",
        "SURVIVES-KILL: BPF bytes that killing every task in the cgroup's subtree would not free (pinned, held from outside)."})
final class CgroupsCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--json", description = "Print JSON (schema in the README).")
    boolean json;

    @Override
    public Integer call() {
        Snapshot s = Scan.once();
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            Json.print(out, Json.cgroups(s));
            return 0;
        }
        Table t = new Table("CGROUP", ">BPF", ">MAPS", ">USAGE", ">USAGE-BPF", ">LIMIT", "STATE", ">STRANDED", ">SURVIVES-KILL");
        for (CgroupTotal c : s.cgroups()) {
            t.row(c.memcg().path(), Table.bytes(c.bpfBytes()), c.maps(), size(c.usage()), size(c.usageWithoutBpf()),
                    c.limit().isPresent() ? Table.bytes(c.limit().getAsLong()) : "max",
                    (c.memcg().online() ? "online" : "offline") + "," + (c.memcg().populated() ? "populated" : "empty"),
                    Table.bytes(c.strandedBytes()), Table.bytes(c.survivingKillBytes()));
        }
        long maps = s.cgroups().stream().mapToInt(CgroupTotal::maps).sum();
        t.row("TOTAL", Table.bytes(s.cgroups().stream().mapToLong(CgroupTotal::bpfBytes).sum()), maps, "", "", "", "",
                Table.bytes(s.strandedBytes()), Table.bytes(s.cgroups().stream().mapToLong(CgroupTotal::survivingKillBytes).sum()));
        t.print(out);
        return 0;
    }

    private static String size(OptionalLong v) { return v.isPresent() ? Table.bytes(v.getAsLong()) : "-"; }
}
