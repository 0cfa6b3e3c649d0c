package io.bpfcharge.migrate;

import io.bpfcharge.BpfchargeException;
import io.bpfcharge.BpfchargeException.Exit;
import io.bpfcharge.bpf.BpfException;
import io.bpfcharge.bpf.BpfFd;
import io.bpfcharge.bpf.MapFd;
import io.bpfcharge.bpf.ProgFd;
import io.bpfcharge.bpffs.PinPaths;
import io.bpfcharge.cgroup.CgroupException;
import io.bpfcharge.cgroup.MemoryHierarchy;
import io.bpfcharge.host.Processes;

import java.nio.file.Path;

/**
 * What a user names, resolved into a {@link MigrationRequest}'s map id and target: the callers' part (the CLI's
 * --map, --to-cgroup and --to-pid; the hook's pin that its scan did not see as a map). Each failure is one
 * line with its exit code.
 */
public final class Requests {
    private Requests() {}

    /** The id of the map {@code spec} names: {@code id:N}, or a bpffs pin path. */
    public static int mapId(String spec) {
        if (spec.startsWith("id:")) {
            int id;
            try {
                id = Integer.parseInt(spec.substring(3));
            } catch (NumberFormatException e) {
                id = 0;
            }
            if (id <= 0)
                throw new BpfchargeException(Exit.USAGE, "--map " + BpfchargeException.clip(spec)
                        + ": expected id:N with N a map id (a positive number, as bpfcharge maps lists it) or a pin path");
            int asked = id;
            MapFd.find(id).orElseThrow(() -> new BpfchargeException(Exit.NOT_FOUND, "no map with id " + asked
                    + ": list them with `bpfcharge maps`")).close();
            return id;
        }
        Path p = PinPaths.current().pin(Path.of(spec).toAbsolutePath().normalize());
        try (BpfFd fd = BpfFd.openPin(p)) {
            if (!(fd instanceof MapFd map))
                throw new BpfchargeException(Exit.NOT_FOUND, p + " is a pinned " + (fd instanceof ProgFd
                        ? "program" : "BPF object") + ", not a map: give a map's pin path or id:N");
            return map.info().id();
        } catch (BpfException e) {
            throw new BpfchargeException(Exit.NOT_FOUND, "cannot open pin " + p + " (" + e.errnoName() + "): give a map's pin path or id:N");
        }
    }

    /** The memory cgroup of a live process. */
    public static String cgroupOfPid(MemoryHierarchy h, long pid) {
        if (pid <= 0)
            throw new BpfchargeException(Exit.USAGE, "--to-pid " + pid + ": expected a process id (a positive number)");
        switch (Processes.liveness(pid)) {
            case NONE -> throw new BpfchargeException(Exit.NOT_FOUND, "process " + pid + " does not exist: give the pid "
                    + "of a live process in the target container, or --to-cgroup");
            case EXITED -> throw new BpfchargeException(Exit.NOT_FOUND, "process " + pid + " has exited (a zombie its "
                    + "parent has not reaped, in no cgroup any more): give the pid of a live process in the target "
                    + "container, or --to-cgroup");
            case RUNNING -> { }
        }
        try {
            return h.cgroupOf(pid);
        } catch (CgroupException e) {
            throw new BpfchargeException(Exit.NOT_FOUND, e.getMessage() + ": give a live process, or --to-cgroup");
        }
    }

    /**
     * A memory cgroup that exists now, given as /proc/PID/cgroup writes it or as its directory: every command's
     * cgroup argument (migrate's target, the reports' --cgroup). A path leaving the hierarchy is a usage error.
     */
    public static String cgroup(MemoryHierarchy h, String given) {
        String path;
        try {
            path = h.pathOf(h.dir(given));
        } catch (CgroupException e) {
            throw new BpfchargeException(Exit.USAGE, e.getMessage());
        }
        if (!h.exists(path))
            throw new BpfchargeException(Exit.NOT_FOUND, "memory cgroup " + given + " does not exist under "
                    + h.root() + ": give a path as /proc/PID/cgroup shows it");
        return path;
    }
}
