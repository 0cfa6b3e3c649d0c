package io.bpfcharge.testing;

import io.bpfcharge.cgroup.MemoryHierarchy;

import java.io.File;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A containerd of the test's own: Debian's containerd 1.6 with its root, state directory and sockets in a
 * private directory (only the native snapshotter, no CRI), one namespace unique to the run, and containers
 * started by {@code ctr run --rootfs} with runc (shim io.containerd.runc.v2) from a busybox {@link Rootfs}.
 * The shim keeps runc's state under a private runc root too ({@code --runc-root}, laid out as containerd's
 * default /run/containerd/runc/NAMESPACE); only the shim's socket lands in /run/containerd/s (a fixed path in
 * 1.6), and it goes with the shim.
 * <p>
 * A container's cgroupsPath is its test memcg. runc creates that path in every cgroup hierarchy it sees, so on
 * cgroup v1 containerd runs in a private mount namespace holding only the memory and devices hierarchies (runc
 * refuses to run without devices), and the path is relative (runc puts it below its own cgroup in each, i.e.
 * below this test process's): the memcg is the test's, the devices cgroup is removed on close. On v2 the path
 * is absolute (a relative one lands below the parent of runc's cgroup); runc, as on every v2 node, enables the
 * available controllers in the ancestors' cgroup.subtree_control.
 */
public final class Containerd implements AutoCloseable {
    static final Path CONTAINERD = Path.of("/usr/bin/containerd"), CTR = Path.of("/usr/bin/ctr"), RUNC = Path.of("/usr/sbin/runc");
    /** Where the 1.6 shim puts its socket, whatever containerd's state directory. */
    static final Path SHIM_SOCKETS = Path.of("/run/containerd/s");

    private final Path dir, rootfs, socket, state, runcRoot;
    private final String namespace = "bpfcharge-" + UUID.randomUUID().toString().substring(0, 8);
    private final TestCgroups cg;
    private final Process daemon;
    private final boolean madeShimSockets = !Files.exists(SHIM_SOCKETS);
    private final List<String> ids = new ArrayList<>(), devicesCgroups = new ArrayList<>();

    /** Fails under CI=true, else skips, when containerd, ctr, runc, busybox or gcc is missing. */
    public static void requireTools() { Rootfs.require("containerd runc busybox-static gcc", CONTAINERD, CTR, RUNC); }

    /** Starts containerd with everything in {@code dir}; its containers go below {@code cg}'s memcgs. */
    public Containerd(Path dir, TestCgroups cg) throws IOException, InterruptedException {
        this.dir = dir;
        this.cg = cg;
        this.rootfs = Rootfs.build(dir.resolve("rootfs"));
        this.socket = dir.resolve("containerd.sock");
        this.state = dir.resolve("state");
        this.runcRoot = dir.resolve("runc");
        Path config = dir.resolve("containerd.toml"), log = dir.resolve("containerd.log");
        // No CRI, no snapshotter but native (the task service needs one; --rootfs uses none), no tracing, no /opt.
        Files.writeString(config, """
                version = 2
                root = "%s"
                state = "%s"
                disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.aufs",
                  "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper",
                  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.overlayfs",
                  "io.containerd.internal.v1.opt", "io.containerd.internal.v1.tracing",
                  "io.containerd.tracing.processor.v1.otlp"]
                [grpc]
                  address = "%s"
                [ttrpc]
                  address = "%s.ttrpc"
                """.formatted(dir.resolve("root"), state, socket, socket));
        StringBuilder script = new StringBuilder();
        if (cg.hierarchy().version() == 1)
            for (Path m : otherCgroupMounts()) script.append("umount -l ").append(m).append(" && ");
        script.append("exec ").append(CONTAINERD).append(" --config ").append(config);
        daemon = new ProcessBuilder("unshare", "--mount", "--propagation", "private", "sh", "-c", script.toString())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(log.toFile()).redirectErrorStream(true).start();
        long deadline = System.nanoTime() + TimeScale.of(Duration.ofSeconds(30)).toNanos();
        while (!Files.readString(log).contains("containerd successfully booted")) {
            if (!daemon.isAlive() || System.nanoTime() > deadline) {
                close();
                fail("containerd did not start: " + Files.readString(log));
            }
            Thread.sleep(20);
        }
    }

    /** The shim's task bundles: NAMESPACE/ID/{config.json,init.pid} (containerd's state dir). */
    public Path taskRoot() { return state.resolve("io.containerd.runtime.v2.task"); }

    /** runc's state: NAMESPACE/ID/state.json. */
    public Path runcRoot() { return runcRoot; }

    /**
     * Runs container {@code id} (detached) in memcg {@code cgroup} (a {@link TestCgroups} child) with these OCI
     * annotations, {@code pins} bind-mounted at /pins and the capabilities to use BPF; returns once it started.
     */
    public Started run(String cgroup, String id, Map<String, String> annotations, Path pins, String... args)
            throws IOException, InterruptedException {
        Path out = dir.resolve(id + ".out");
        List<String> cmd = new ArrayList<>(List.of("run", "--detach", "--rootfs", "--runtime", "io.containerd.runc.v2",
                "--runc-root", runcRoot.toString(), "--cgroup", cgroupsPath(cgroup), "--cpu-shares", "0",
                "--cap-add", "CAP_SYS_ADMIN", "--cap-add", "CAP_BPF", "--cap-add", "CAP_PERFMON",
                "--env", "PATH=/bin", "--log-uri", out.toUri().toString()));
        // ctr sets cpu.shares 1024 unless told 0: that needs the cpu hierarchy, not mounted for runc on v1.
        annotations.forEach((k, v) -> cmd.addAll(List.of("--annotation", k + "=" + v)));
        if (pins != null) cmd.addAll(List.of("--mount", "type=bind,src=" + pins + ",dst=/pins,options=rbind:rw"));
        cmd.add(rootfs.toString());
        cmd.add(id);
        cmd.addAll(List.of(args));
        ids.add(id);
        Cli.Result r = ctr(cmd);
        assertEquals(0, r.exit(), "ctr run " + id + ": " + r.err() + r.out());
        long pid = Long.parseLong(Files.readString(taskRoot().resolve(namespace).resolve(id).resolve("init.pid")).strip());
        return new Started(id, pid, out);
    }

    /** Kills the container's task and removes the task and the container, as a restart does. */
    public void delete(String id) throws IOException, InterruptedException {
        Cli.Result r = ctr(List.of("task", "delete", "--force", id));
        assertEquals(0, r.exit(), "ctr task delete " + id + ": " + r.err());
        r = ctr(List.of("container", "delete", id));
        assertEquals(0, r.exit(), "ctr container delete " + id + ": " + r.err());
        ids.remove(id);
    }

    /**
     * runc's cgroupsPath for a test memcg. v1: relative to this process's memcg (runc resolves it below its own
     * cgroup of each hierarchy, and containerd inherited this process's); the devices cgroup runc makes at the
     * same relative path is remembered for close(). v2: the absolute path.
     */
    private String cgroupsPath(String cgroup) {
        MemoryHierarchy h = cg.hierarchy();
        if (h.version() != 1) return cgroup;
        String rel = Path.of(h.cgroupOf(ProcessHandle.current().pid())).relativize(Path.of(cgroup)).toString();
        if (rel.startsWith("..")) throw new IllegalArgumentException(cgroup + " is not below this process's memcg");
        devicesCgroups.add(rel);
        return rel;
    }

    /** The cgroup mounts runc must not see on v1: all but the memory and devices hierarchies. */
    private static List<Path> otherCgroupMounts() throws IOException {
        List<Path> out = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/mounts"))) {
            String[] f = line.split(" ");
            List<String> opts = List.of(f[3].split(","));
            boolean keep = f[2].equals("cgroup") && (opts.contains("memory") || opts.contains("devices"));
            if ((f[2].equals("cgroup") || f[2].equals("cgroup2")) && !keep) out.add(Path.of(f[1]));
        }
        return out;
    }

    private Cli.Result ctr(List<String> args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(CTR.toString(), "--address", socket.toString(), "--namespace", namespace));
        cmd.addAll(args);
        return Cli.exec(cmd, null);
    }

    /**
     * Removes every container, stops containerd, kills what is left of its shims (by their socket address, this
     * run's alone) and of its containers (an init still in a test memcg), removes the devices cgroups runc made.
     */
    @Override
    public void close() throws IOException, InterruptedException {
        for (String id : List.copyOf(ids)) {
            ctr(List.of("task", "delete", "--force", id));
            ctr(List.of("container", "delete", id));
        }
        ids.clear();
        daemon.destroy();
        if (!daemon.waitFor(10, TimeUnit.SECONDS)) {
            daemon.destroyForcibly();
            daemon.waitFor();
        }
        for (Path init : files(taskRoot().resolve(namespace), "init.pid")) {
            long pid = Long.parseLong(Files.readString(init).strip());
            try {
                if (cg.hierarchy().cgroupOf(pid).startsWith(cg.base() + "/")) kill(pid);
            } catch (RuntimeException e) {
                // gone
            }
        }
        for (long pid : shims()) kill(pid);
        removeDevicesCgroups();
        if (madeShimSockets) {
            try {
                Files.deleteIfExists(SHIM_SOCKETS); // only when empty: another containerd may have come meanwhile
            } catch (IOException e) {
                // not empty: someone else's shim
            }
        }
    }

    /** Processes of the 1.6 shim serving this containerd (its command line names this run's socket). */
    private List<Long> shims() throws IOException {
        List<Long> out = new ArrayList<>();
        try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), p -> p.getFileName().toString().matches("\\d+"))) {
            for (Path p : procs) {
                try {
                    List<String> argv = List.of(new String(Files.readAllBytes(p.resolve("cmdline"))).split("\0"));
                    if (!argv.isEmpty() && argv.getFirst().endsWith("containerd-shim-runc-v2") && argv.contains(socket.toString()))
                        out.add(Long.parseLong(p.getFileName().toString()));
                } catch (IOException e) {
                    // gone meanwhile
                }
            }
        }
        return out;
    }

    private static void kill(long pid) {
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
    }

    private static List<Path> files(Path namespaceDir, String name) {
        List<Path> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(namespaceDir)) {
            for (Path d : ds) if (Files.isRegularFile(d.resolve(name))) out.add(d.resolve(name));
        } catch (IOException e) {
            // no container was ever made
        }
        return out;
    }

    /** runc removes a container's cgroups on delete, not the levels above them (the test's tag): deepest first. */
    private void removeDevicesCgroups() throws IOException, InterruptedException {
        if (devicesCgroups.isEmpty()) return;
        Path mount = null;
        for (String line : Files.readAllLines(Path.of("/proc/self/mounts"))) {
            String[] f = line.split(" ");
            if (f[2].equals("cgroup") && List.of(f[3].split(",")).contains("devices")) mount = Path.of(f[1]);
        }
        String own = null;
        for (String line : Files.readAllLines(Path.of("/proc/self/cgroup"))) {
            String[] f = line.split(":", 3);
            if (List.of(f[1].split(",")).contains("devices")) own = f[2];
        }
        if (mount == null || own == null) return;
        Path base = Path.of(mount + own);
        TreeSet<Path> dirs = new TreeSet<>(Comparator.comparingInt(Path::getNameCount).reversed().thenComparing(Comparator.naturalOrder()));
        for (String rel : devicesCgroups)
            for (Path d = base.resolve(rel); !d.equals(base); d = d.getParent()) dirs.add(d);
        for (Path d : dirs) {
            for (int i = 0; ; i++) {
                try {
                    Files.deleteIfExists(d);
                    break;
                } catch (IOException e) { // a task that just exited may keep it busy a moment
                    if (i == 50) throw new IllegalStateException("could not remove devices cgroup " + d, e);
                    Thread.sleep(100);
                }
            }
        }
    }
}
