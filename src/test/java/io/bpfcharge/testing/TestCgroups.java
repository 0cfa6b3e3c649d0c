package io.bpfcharge.testing;

import io.bpfcharge.cgroup.MemoryHierarchy;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * Memory cgroups and a bpffs directory private to one test. Cgroups are made only below this
 * process's own memory cgroup. close() kills the processes it started, removes every pin under
 * its bpffs directory and every cgroup it made, even after a failed test.
 */
public final class TestCgroups implements AutoCloseable {
    private final MemoryHierarchy hierarchy = MemoryHierarchy.detect();
    private final String base;
    private final Path pinDir;
    private final List<Path> cgroups = new ArrayList<>(); // directories: removed by their bytes, whatever their names
    private final List<Process> processes = new ArrayList<>();

    public TestCgroups() {
        String tag = "bpfcharge-test-" + UUID.randomUUID().toString().substring(0, 8);
        String own = hierarchy.cgroupOf(ProcessHandle.current().pid());
        enableMemoryBelow(own);
        base = createChild(own, tag);
        cgroups.add(hierarchy.dir(base));
        enableMemoryBelow(base);
        pinDir = Path.of("/sys/fs/bpf", tag);
        try {
            Files.createDirectories(pinDir);
        } catch (IOException e) {
            throw new IllegalStateException("cannot create " + pinDir + " (is bpffs mounted?)", e);
        }
    }

    public MemoryHierarchy hierarchy() { return hierarchy; }

    /** The test's own parent cgroup (below this process's memory cgroup). */
    public String base() { return base; }

    /** A new child memcg below the test's base, e.g. "/own/bpfcharge-test-1a2b/old". */
    public String child(String name) {
        String path = createChild(base, name);
        cgroups.add(hierarchy.dir(path));
        return path;
    }

    /**
     * A new child memcg below the test's base whose name is these bytes, UTF-8 or not. Made (and removed) from
     * a {@code file:} URI, which the JDK turns into a path byte for byte: not through bpfcharge's own name
     * handling, which is what such a test checks.
     */
    public Path rawChild(byte[] name) {
        StringBuilder uri = new StringBuilder(hierarchy.dir(base).toUri().toString()); // a directory's URI ends in '/'
        for (byte b : name) uri.append('%').append(String.format("%02X", b & 0xff));
        Path dir = Path.of(URI.create(uri.toString()));
        try {
            Files.createDirectory(dir);
        } catch (IOException e) {
            throw new IllegalStateException("cannot create memory cgroup " + uri, e);
        }
        cgroups.add(dir);
        return dir;
    }

    /**
     * Nested memcgs below the test's base, one level per name (e.g. a kubelet layout); returns the deepest.
     * Each level but the last delegates memory to the next, as a v2 hierarchy needs.
     */
    public String nested(String... names) {
        String path = base;
        for (int i = 0; i < names.length; i++) {
            path = createChild(path, names[i]);
            cgroups.add(hierarchy.dir(path));
            if (i < names.length - 1) enableMemoryBelow(path);
        }
        return path;
    }

    /** Removes an empty cgroup of this test (a test of what the kernel does with a removed memcg's charge). */
    public void remove(String path) {
        try {
            Files.deleteIfExists(hierarchy.dir(path));
        } catch (IOException e) {
            throw new IllegalStateException("cannot remove memory cgroup " + path + ": " + e.getMessage(), e);
        }
    }

    /** Sets a cgroup's hard limit in bytes (memory.max, or memory.limit_in_bytes on v1). */
    public void setLimit(String path, long bytes) {
        try {
            Files.writeString(hierarchy.dir(path).resolve(hierarchy.version() == 2 ? "memory.max" : "memory.limit_in_bytes"),
                    Long.toString(bytes));
        } catch (IOException e) {
            throw new IllegalStateException("cannot set the memory limit of " + path + ": " + e.getMessage(), e);
        }
    }

    private String createChild(String parent, String name) {
        Path d = hierarchy.dir(parent).resolve(name);
        try {
            Files.createDirectory(d);
        } catch (IOException e) {
            throw new IllegalStateException("cannot create memory cgroup " + d + ": " + e.getMessage(), e);
        }
        return hierarchy.pathOf(d);
    }

    /** The test's private bpffs directory. */
    public Path pinDir() { return pinDir; }

    public Path pin(String name) { return pinDir.resolve(name); }

    /** Registers a process for cleanup (killed on close). */
    public Process track(Process p) {
        processes.add(p);
        return p;
    }

    public long usage(String cgroup) { return hierarchy.usage(cgroup).orElseThrow(); }

    /** On cgroup v2 a child only gets its own memory accounting when its parent enables +memory. */
    private void enableMemoryBelow(String path) {
        if (hierarchy.version() != 2) return;
        Path control = hierarchy.dir(path).resolve("cgroup.subtree_control");
        try {
            if (!Files.readString(control).contains("memory")) Files.writeString(control, "+memory");
        } catch (IOException e) {
            throw new IllegalStateException("cannot enable the memory controller below " + path
                    + " (a v2 cgroup with processes in it cannot delegate controllers)", e);
        }
    }

    @Override
    public void close() {
        for (Process p : processes) {
            p.destroyForcibly();
            try {
                p.waitFor();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        deleteTree(pinDir);
        // Deepest first; a cgroup whose last task just exited may refuse rmdir for a moment.
        List<Path> order = new ArrayList<>(cgroups);
        order.sort(Comparator.comparingInt(Path::getNameCount).reversed());
        for (Path cg : order) removeWithRetry(cg);
    }

    private static void removeWithRetry(Path cg) {
        // A container's init dies with its namespaces after a kill: slow under emulation.
        for (long end = System.nanoTime() + TimeScale.of(Duration.ofSeconds(5)).toNanos(); System.nanoTime() < end; ) {
            try {
                Files.deleteIfExists(cg);
                return;
            } catch (IOException e) {
                try {
                    Thread.sleep(100);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
        throw new IllegalStateException("could not remove test cgroup " + cg);
    }

    static void deleteTree(Path dir) {
        if (!Files.exists(dir)) return;
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (IOException e) {
            throw new IllegalStateException("could not remove test pins under " + dir, e);
        }
    }
}
