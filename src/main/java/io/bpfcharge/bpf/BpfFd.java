package io.bpfcharge.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

/** A file descriptor for a BPF object; its owner closes it exactly once. */
public abstract sealed class BpfFd implements AutoCloseable permits MapFd, ProgFd, BtfFd, OtherFd {
    private int fd;

    BpfFd(int fd) { this.fd = fd; }

    public int fd() {
        if (fd < 0) throw new IllegalStateException("fd already closed");
        return fd;
    }

    /** Pins this object at a path in bpffs (the path must not exist). */
    public void pin(Path path) {
        try (Arena arena = Arena.ofConfined()) {
            BpfException.check("pin " + path, (int) Native.Pins.OBJ_PIN.invokeExact(fd(), arena.allocateFrom(path.toString())));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    @Override
    public void close() {
        if (fd < 0) return;
        Libc.close(fd);
        fd = -1;
    }

    /**
     * Opens whatever is pinned at a bpffs path: a map, a program, or another kind of object.
     * The kind comes from the anon inode's name, as bpftool does it.
     */
    public static BpfFd openPin(Path path) {
        Scratch s = Scratch.get();
        int fd = Native.checked("open pin " + path, () -> (int) Native.Pins.OBJ_GET.invokeExact(s.path(path.toString())));
        String kind = Libc.fdTarget(fd);
        return switch (kind) {
            case "anon_inode:bpf-map" -> new MapFd(fd);
            case "anon_inode:bpf-prog" -> new ProgFd(fd);
            default -> new OtherFd(fd, kind.replace("anon_inode:", ""));
        };
    }

    /** What is pinned at a path; empty when nothing is (the pin was removed). Other failures throw. */
    public static java.util.Optional<BpfFd> findPin(Path path) {
        try {
            return java.util.Optional.of(openPin(path));
        } catch (BpfException e) {
            if (e.errno() != Errno.ENOENT) throw e;
            return java.util.Optional.empty();
        }
    }

    /** The program or link pinned at a path; null when the pin holds something else (a map, BTF). */
    public static FdInfo.ProgramOrLink pinnedProgramOrLink(Path path) {
        Scratch s = Scratch.get();
        int fd = Native.checked("open pin " + path, () -> (int) Native.Pins.OBJ_GET.invokeExact(s.path(path.toString())));
        try {
            return FdInfo.programOrLink(fd);
        } finally {
            Libc.close(fd);
        }
    }

    static MemorySegment u32(Arena arena, int v) {
        return arena.allocateFrom(Native.I, v);
    }
}
