package io.bpfcharge.cli;

import io.bpfcharge.inventory.MapRecord;
import io.bpfcharge.inventory.Snapshot;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "maps", description = {
        "Every BPF map with the memory cgroup it is charged to, its bytes, pins, slots and holders.",
        "OUTER: the map-of-maps slots that hold it, as OUTER-ID[KEY] (a 4-byte key as its number, others in hex)."})
final class MapsCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Mixin TableOutput output;

    @Option(names = "--cgroup", paramLabel = "PATH",
            description = "Only maps charged to this memory cgroup or one below it (as /proc/PID/cgroup writes it, or its directory).")
    String cgroup;

    @Option(names = "--pinned", description = "Only maps pinned in bpffs.")
    boolean pinned;

    @Option(names = "--sort", paramLabel = "id|bytes|name|cgroup", defaultValue = "id", converter = Sort.MapsConverter.class,
            description = "Row order (default: ${DEFAULT-VALUE}); bytes: largest first.")
    Sort.Maps sort;

    @Override
    public Integer call() {
        Snapshot s = Scan.within(cgroup);
        List<MapRecord> maps = s.maps().stream().filter(m -> !pinned || m.pinned()).sorted(sort.order).toList();
        new MapsPrinter(s.fates(), s.reparented(), output.width())
                .print(spec.commandLine().getOut(), output.json, maps);
        return 0;
    }
}
