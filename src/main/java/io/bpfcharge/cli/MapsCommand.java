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

import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

@Command(name = "maps", description = "Every BPF map with the memory cgroup it is charged to, its bytes, pins, slots and holders.")
final class MapsCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--json", description = "Print JSON (schema in the README).")
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
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            Json.maps(out, maps, s.fates());
            return 0;
        }
        Table t = new Table(">ID", "NAME", "TYPE", ">BYTES", "MEMCG", "STATE", "PINS", "OUTER", "HOLDERS");
        for (MapRecord m : maps) {
            t.row(m.id(), m.info().name(), m.info().type(), Table.bytes(m.bytes()),
                    m.memcg() == null ? "(not charged)" : m.memcg().path(),
                    m.memcg() == null ? "" : m.memcg().stranded() ? "stranded:" + m.memcg().strandedReason() : "ok",
                    String.join(",", m.pins()),
                    m.outer().stream().map(o -> o.outerId() + "[" + o.key() + "]").collect(Collectors.joining(",")),
                    holders(m));
        }
        t.print(out);
        return 0;
    }

    private static String holders(MapRecord m) {
        String procs = m.processes().stream().map(p -> p.comm() + "/" + p.pid()).collect(Collectors.joining(","));
        String progs = m.programs().stream().map(p -> "prog:" + p.id()).collect(Collectors.joining(","));
        return procs.isEmpty() ? progs : progs.isEmpty() ? procs : procs + "," + progs;
    }

    /** A --cgroup must exist now; it may be given as a directory under the mount or as /proc/PID/cgroup writes it. */
    static String checkedPath(String cgroup) {
        MemoryHierarchy h = MemoryHierarchy.detect();
        String path = h.pathOf(h.dir(cgroup));
        if (!h.exists(path))
            throw new BpfchargeException(Exit.NOT_FOUND, "memory cgroup " + cgroup + " does not exist under " + h.root()
                    + ": give a path as /proc/PID/cgroup shows it");
        return path;
    }
}
