package io.bpfcharge.cli;

import io.bpfcharge.BpfchargeException;
import io.bpfcharge.BpfchargeException.Exit;
import io.bpfcharge.cgroup.MemoryHierarchy;
import io.bpfcharge.inventory.MapRecord;
import io.bpfcharge.inventory.Snapshot;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "maps", description = "Every BPF map with the memory cgroup it is charged to, its bytes, pins, slots and holders.")
final class MapsCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--json", description = "Print JSON (schema in docs/json.md).")
    boolean json;

    @Option(names = "--cgroup", paramLabel = "PATH", description = "Only maps charged to this memory cgroup (as /proc/PID/cgroup writes it, or its directory).")
    String cgroup;

    @Option(names = "--pinned", description = "Only maps pinned in bpffs.")
    boolean pinned;

    @Override
    public Integer call() {
        String only = cgroup == null ? null : checkedPath(cgroup);
        Snapshot s = Scan.once();
        List<MapRecord> maps = s.maps().stream()
                .filter(m -> !pinned || m.pinned())
                .filter(m -> only == null || (m.memcg() != null && m.memcg().path().equals(only)))
                .toList();
        new MapsPrinter(s.fates(), s.reparented()).print(spec.commandLine().getOut(), json, maps);
        return 0;
    }

    /** A --cgroup must exist now; it may be given as a directory under the mount or as /proc/PID/cgroup writes it. */
    static String checkedPath(String cgroup) {
        MemoryHierarchy h = MemoryHierarchy.detect();
        String path;
        try {
            path = h.pathOf(h.dir(cgroup));
        } catch (io.bpfcharge.cgroup.CgroupException e) {
            throw new BpfchargeException(Exit.USAGE, e.getMessage()); // e.g. a path leaving the hierarchy, as migrate says
        }
        if (!h.exists(path))
            throw new BpfchargeException(Exit.NOT_FOUND, "memory cgroup " + cgroup + " does not exist under " + h.root()
                    + ": give a path as /proc/PID/cgroup shows it");
        return path;
    }
}
