package io.bpfcharge.cgroup;

import io.bpfcharge.BpfchargeException;
import io.bpfcharge.BpfchargeException.Exit;
import io.bpfcharge.FileNames;
import io.bpfcharge.mount.Mountinfo;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * The cgroup hierarchy that holds the memory controller: a v1 {@code memory} mount or the v2
 * unified tree. Paths are relative to its root, as {@code /proc/PID/cgroup} writes them ("/a/b").
 * Every file name that differs between v1 and v2 is decided here and nowhere else.
 */
public record MemoryHierarchy(CgroupMode mode, int version, Path root) {

    /** Finds the memory hierarchy from this process's mount table; never assumes a layout. */
    public static MemoryHierarchy detect() {
        return detect(Mountinfo.self());
    }

    static MemoryHierarchy detect(List<Mountinfo> mounts) {
        Path v1Memory = null, v2 = null;
        boolean anyV1 = false;
        for (Mountinfo m : mounts) {
            if (m.fsType().equals("cgroup")) {
                anyV1 = true;
                if (List.of(m.superOptions().split(",")).contains("memory")) v1Memory = m.mountPoint();
            } else if (m.fsType().equals("cgroup2") && v2 == null) {
                v2 = m.mountPoint();
            }
        }
        CgroupMode mode = anyV1 ? (v2 != null ? CgroupMode.HYBRID : CgroupMode.V1) : CgroupMode.V2;
        if (v1Memory != null) return new MemoryHierarchy(mode, 1, v1Memory);
        if (v2 != null && controllers(v2).contains("memory")) return new MemoryHierarchy(mode, 2, v2);
        throw new CgroupException("no cgroup hierarchy has the memory controller: mount cgroup2 with memory enabled "
                + "(or the v1 memory controller)");
    }

    private static List<String> controllers(Path v2root) {
        try {
            return List.of(Files.readString(v2root.resolve("cgroup.controllers")).trim().split("\\s+"));
        } catch (IOException e) {
            return List.of();
        }
    }

    /** The memory cgroup of a process, as its /proc/PID/cgroup line says (in {@link FileNames} text). */
    public String cgroupOf(long pid) {
        byte[] raw;
        try {
            raw = Files.readAllBytes(Path.of("/proc/" + pid + "/cgroup"));
        } catch (IOException e) {
            throw new CgroupException("process " + pid + " does not exist");
        }
        return cgroupLine(FileNames.text(raw)); // the kernel writes a path's bytes as they are
    }

    String cgroupLine(String procCgroup) {
        for (String line : procCgroup.split("\n")) {
            String[] f = line.split(":", 3);
            if (f.length < 3) continue;
            boolean match = version == 1 ? List.of(f[1].split(",")).contains("memory") : f[0].equals("0") && f[1].isEmpty();
            if (match) return f[2];
        }
        throw new CgroupException("no memory cgroup line in /proc/PID/cgroup");
    }

    /**
     * The directory of a cgroup path; accepts "/a/b" or an absolute path under the mount, in {@link FileNames}
     * text (a name's bytes that are not UTF-8 as %HH).
     */
    public Path dir(String path) {
        Path p = FileNames.path(path).normalize();
        if (p.startsWith(root)) return p;
        String rel = path.startsWith("/") ? path.substring(1) : path;
        Path d = root.resolve(FileNames.path(rel)).normalize();
        if (!d.startsWith(root)) throw new CgroupException("cgroup path " + path + " leaves " + root);
        return d;
    }

    /** The "/a/b" form of a cgroup directory, in {@link FileNames} text: the key of every label and row. */
    public String pathOf(Path dir) {
        return "/" + FileNames.text(root.relativize(dir.normalize()));
    }

    public boolean exists(String path) { return Files.isDirectory(dir(path)); }

    /** The cgroup id (kernfs id = directory inode) of a path. */
    public long id(String path) {
        try {
            return (Long) Files.getAttribute(dir(path), "unix:ino");
        } catch (IOException e) {
            throw new CgroupException("memory cgroup " + path + " does not exist under " + root);
        }
    }

    /** Every cgroup in the hierarchy by id: one walk of the tree. */
    public Map<Long, String> idIndex() {
        Map<Long, String> index = new HashMap<>();
        try {
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes a) {
                    Object key = a.fileKey(); // "(dev=..,ino=..)"
                    index.put(inode(key, d), pathOf(d));
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path f, IOException e) {
                    return FileVisitResult.CONTINUE; // removed while walking
                }
            });
        } catch (IOException e) {
            throw new CgroupException("cannot walk " + root + ": " + e.getMessage());
        }
        return index;
    }

    private static long inode(Object fileKey, Path d) {
        String k = String.valueOf(fileKey);
        int i = k.indexOf("ino=");
        if (i >= 0) return Long.parseLong(k.substring(i + 4, k.indexOf(')', i)));
        try {
            return (Long) Files.getAttribute(d, "unix:ino");
        } catch (IOException e) {
            return -1;
        }
    }

    /** Current memory use in bytes (memory.current, or memory.usage_in_bytes on v1). */
    public OptionalLong usage(String path) {
        return readLong(path, version == 2 ? "memory.current" : "memory.usage_in_bytes");
    }

    /** memory.low (v2); empty on v1, which has no such file, or when unreadable. */
    public OptionalLong low(String path) { return version == 2 ? readLong(path, "memory.low") : OptionalLong.empty(); }

    /** memory.min (v2); empty on v1 or when unreadable. */
    public OptionalLong min(String path) { return version == 2 ? readLong(path, "memory.min") : OptionalLong.empty(); }

    /** memory.oom.group (v2): whether an OOM kill takes every task of the cgroup; empty on v1. */
    public java.util.Optional<Boolean> oomGroup(String path) {
        if (version != 2) return java.util.Optional.empty();
        OptionalLong v = readLong(path, "memory.oom.group");
        return v.isPresent() ? java.util.Optional.of(v.getAsLong() == 1) : java.util.Optional.empty();
    }

    /** Whether a cgroup has child cgroups. */
    public boolean hasChildren(String path) {
        try (var children = Files.newDirectoryStream(dir(path), Files::isDirectory)) {
            return children.iterator().hasNext();
        } catch (IOException e) {
            return false; // gone
        }
    }

    /**
     * This process's memory cgroup, checked against the mounted hierarchy: in a private cgroup
     * namespace /proc/self/cgroup is relative to the namespace (often just "/") while the mount shows
     * the host's tree, so the path would name another cgroup, the host's root among them. A process
     * that moves itself and back must never take that path.
     */
    public String ownCgroup() {
        long self = ProcessHandle.current().pid();
        String path = cgroupOf(self);
        if (!processes(path).contains(self))
            throw new BpfchargeException(Exit.ENVIRONMENT, "this process is not in " + dir(path)
                    + " although /proc/self/cgroup says " + path + ": bpfcharge runs in a private cgroup namespace;"
                    + " run it in the host's (podman/docker --cgroupns=host, or nsenter --cgroup --target 1)");
        return path;
    }

    /** The processes directly in a cgroup (cgroup.procs); empty when it is gone. */
    public List<Long> processes(String path) {
        try {
            return Files.readAllLines(dir(path).resolve("cgroup.procs")).stream().filter(l -> !l.isBlank()).map(Long::parseLong).toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    /** Every cgroup below {@code path} (itself included) that has no child cgroup, as "/a/b" paths. */
    public List<String> leaves(String path) {
        List<String> out = new java.util.ArrayList<>();
        try {
            Files.walkFileTree(dir(path), new SimpleFileVisitor<>() {
                private final java.util.Deque<boolean[]> hasChild = new java.util.ArrayDeque<>();

                @Override
                public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes a) {
                    if (!hasChild.isEmpty()) hasChild.peek()[0] = true;
                    hasChild.push(new boolean[1]);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path d, IOException e) {
                    if (!hasChild.pop()[0]) out.add(pathOf(d));
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path f, IOException e) {
                    return FileVisitResult.CONTINUE; // removed while walking
                }
            });
        } catch (IOException e) {
            throw new CgroupException("cannot walk " + dir(path) + ": " + e.getMessage());
        }
        return out;
    }

    /** The hard limit; empty when unlimited. */
    public OptionalLong limit(String path) {
        OptionalLong l = readLong(path, version == 2 ? "memory.max" : "memory.limit_in_bytes");
        // v1 writes "unlimited" as PAGE_COUNTER_MAX pages, a number near 2^63.
        return l.isPresent() && l.getAsLong() >= (1L << 62) ? OptionalLong.empty() : l;
    }

    /** The smallest room left under this cgroup's limit and every ancestor's; empty when none is limited. */
    public OptionalLong headroom(String path) {
        OptionalLong best = OptionalLong.empty();
        for (String p = path; p != null; p = parent(p)) {
            OptionalLong lim = limit(p), use = usage(p);
            if (lim.isEmpty() || use.isEmpty()) continue;
            long room = Math.max(0, lim.getAsLong() - use.getAsLong());
            if (best.isEmpty() || room < best.getAsLong()) best = OptionalLong.of(room);
        }
        return best;
    }

    static String parent(String path) {
        if (path.equals("/") || path.isEmpty()) return null;
        int i = path.lastIndexOf('/');
        return i <= 0 ? "/" : path.substring(0, i);
    }

    /** Whether any task lives in this cgroup or below it. */
    public boolean populated(String path) {
        Path d = dir(path);
        if (version == 2) {
            try {
                for (String line : Files.readAllLines(d.resolve("cgroup.events")))
                    if (line.startsWith("populated ")) return line.endsWith(" 1");
            } catch (IOException e) {
                return false;
            }
            return false;
        }
        try (var walk = Files.walk(d)) { // v1 has no cgroup.events: look for any task in the subtree
            return walk.filter(Files::isDirectory).anyMatch(MemoryHierarchy::hasTasks);
        } catch (IOException | java.io.UncheckedIOException e) {
            return false;
        }
    }

    private static boolean hasTasks(Path d) {
        try {
            return !Files.readString(d.resolve("cgroup.procs")).isBlank(); // pseudo-file: size is always 0
        } catch (IOException e) {
            return false;
        }
    }

    /** A cgroup's cgroup.procs: writing a pid there moves that whole process into the cgroup. */
    public Path procs(String path) { return dir(path).resolve("cgroup.procs"); }

    /** Moves a whole process into a cgroup. */
    public void moveProcess(long pid, String path) {
        try {
            Files.writeString(procs(path), Long.toString(pid));
        } catch (NoSuchFileException e) {
            throw new CgroupException("memory cgroup " + path + " does not exist");
        } catch (IOException e) {
            throw new CgroupException("cannot move process " + pid + " into " + path + ": " + e.getMessage());
        }
    }

    private OptionalLong readLong(String path, String file) {
        try {
            String s = Files.readString(dir(path).resolve(file)).trim();
            return s.equals("max") ? OptionalLong.empty() : OptionalLong.of(Long.parseLong(s));
        } catch (IOException | NumberFormatException e) {
            return OptionalLong.empty();
        }
    }

}
