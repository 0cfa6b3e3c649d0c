package io.bpfcharge.testing;

import io.bpfcharge.bpf.BpfFd;
import io.bpfcharge.bpf.MapFd;
import io.bpfcharge.bpf.MapInfo;
import io.bpfcharge.bpf.MapType;
import io.bpfcharge.cgroup.MemoryHierarchy;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Creates maps from a separate process placed in a memory cgroup, so the kernel charges them
 * there, as a container's loader would. Usage from a test:
 * <pre>
 *   try (MapMaker.Maps m = MapMaker.run(cg, "/old", false, MapMaker.spec("hash", 8, 64, 1000, "h").pin(p))) { ... }
 * </pre>
 * The child moves itself into the cgroup first, creates each map in order (an outer map takes
 * the previous spec's map as inner template and stores it at key 0), pins those with a pin,
 * prints their ids, then exits or (hold) keeps its fds until the test closes it.
 */
public final class MapMaker {
    /** One map to create: "type:key:value:entries:name:pin=/path:flags=N:outer=B:touch=N". */
    public record Spec(String type, int keySize, int valueSize, int maxEntries, String name, Path pin, int flags,
                       boolean holdsPrevious, int touchPages) {
        public Spec pin(Path p) { return new Spec(type, keySize, valueSize, maxEntries, name, p, flags, holdsPrevious, touchPages); }

        public Spec flags(int f) { return new Spec(type, keySize, valueSize, maxEntries, name, pin, f, holdsPrevious, touchPages); }

        /** This map-of-maps uses the previous spec's map as inner template and holds it at key 0. */
        public Spec outerOfPrevious() { return new Spec(type, keySize, valueSize, maxEntries, name, pin, flags, true, touchPages); }

        /** This arena gets its first {@code pages} pages allocated: the child maps it and writes to each. */
        public Spec touch(int pages) { return new Spec(type, keySize, valueSize, maxEntries, name, pin, flags, holdsPrevious, pages); }

        String encode() {
            return String.join(":", type, "" + keySize, "" + valueSize, "" + maxEntries, name,
                    "pin=" + (pin == null ? "" : pin), "flags=" + flags, "outer=" + holdsPrevious, "touch=" + touchPages);
        }

        static Spec decode(String s) {
            String[] f = s.split(":", -1);
            String pin = f[5].substring(4);
            return new Spec(f[0], Integer.parseInt(f[1]), Integer.parseInt(f[2]), Integer.parseInt(f[3]), f[4],
                    pin.isEmpty() ? null : Path.of(pin), Integer.parseInt(f[6].substring(6)),
                    Boolean.parseBoolean(f[7].substring(6)), Integer.parseInt(f[8].substring(6)));
        }
    }

    public static Spec spec(String type, int keySize, int valueSize, int maxEntries, String name) {
        return new Spec(type, keySize, valueSize, maxEntries, name, null, 0, false, 0);
    }

    /** The running (hold) or finished child and the ids of the maps it made, in spec order. */
    public record Maps(Process process, List<Integer> ids) implements AutoCloseable {
        public int id(int i) { return ids.get(i); }

        public long pid() { return process.pid(); }

        /** Ends a holding child: its fds close, unpinned maps are freed. */
        @Override
        public void close() {
            process.destroyForcibly();
            try {
                process.waitFor(TimeScale.of(Duration.ofSeconds(10)).toSeconds(), TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Starts the child in {@code cgroup}, waits until it printed every map id. */
    public static Maps run(TestCgroups cg, String cgroup, boolean hold, Spec... specs) throws IOException {
        return run(cg, cgroup, hold, Cli.java(), specs);
    }

    /** The same in the cgroup of this directory, named by its bytes (see {@link TestCgroups#rawChild}). */
    public static Maps run(TestCgroups cg, Path cgroupDir, boolean hold, Spec... specs) throws IOException {
        return run(cg, cgroupDir.toUri().toString(), hold, Cli.java(), specs);
    }

    /**
     * A holding child whose process name (comm) is {@code comm}: the kernel names a process after the file
     * it executed, so it is started through a symlink to java of that name (in {@code dir}).
     */
    public static Maps holdAs(String comm, Path dir, TestCgroups cg, String cgroup, Spec... specs) throws IOException {
        List<String> cmd = Cli.java();
        Path link = Files.createSymbolicLink(dir.resolve(comm), Path.of(cmd.getFirst()));
        cmd.set(0, link.toString());
        return run(cg, cgroup, true, cmd, specs);
    }

    private static Maps run(TestCgroups cg, String cgroup, boolean hold, List<String> cmd, Spec... specs) throws IOException {
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), MapMaker.class.getName(), cgroup, hold ? "hold" : "exit"));
        for (Spec s : specs) cmd.add(s.encode());
        Process p = cg.track(new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start());
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream()));
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < specs.length; i++) {
            String line = out.readLine();
            if (line == null) throw new IOException("MapMaker exited before creating map " + specs[i].name());
            ids.add(Integer.parseInt(line.trim()));
        }
        if (!hold) {
            try {
                if (!p.waitFor(TimeScale.of(Duration.ofSeconds(30)).toSeconds(), TimeUnit.SECONDS) || p.exitValue() != 0) throw new IOException("MapMaker failed");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return new Maps(p, List.copyOf(ids));
    }

    public static void main(String[] args) throws Exception {
        MemoryHierarchy h = MemoryHierarchy.detect();
        String self = Long.toString(ProcessHandle.current().pid());
        if (args[0].startsWith("file:")) Files.writeString(Path.of(URI.create(args[0])).resolve("cgroup.procs"), self);
        else h.moveProcess(Long.parseLong(self), args[0]);
        List<MapFd> made = new ArrayList<>();
        for (int i = 2; i < args.length; i++) {
            Spec s = Spec.decode(args[i]);
            MapFd inner = s.holdsPrevious() ? made.getLast() : null;
            MapInfo like = new MapInfo(0, MapType.byName(s.type()), s.name(), s.keySize(), s.valueSize(),
                    s.maxEntries(), s.flags(), 0, 0, 0, 0, 0, 0);
            MapFd fd = MapFd.create(like, null, inner);
            if (inner != null) {
                fd.setInnerMap(ByteBuffer.allocate(s.keySize()), inner);
            }
            if (s.touchPages() > 0) ArenaPages.touch(fd.fd(), s.maxEntries(), s.touchPages());
            if (s.pin() != null) fd.pin(s.pin());
            made.add(fd);
            System.out.println(fd.info().id());
        }
        System.out.flush();
        if (args[1].equals("hold")) {
            while (System.in.read() >= 0) { /* hold the fds until the test ends us */ }
        }
        made.forEach(BpfFd::close);
    }
}
