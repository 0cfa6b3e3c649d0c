package io.bpfcharge.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

/**
 * A program held in memory ({@code memfd_create}) and run through {@code /proc/PID/fd/N}: nothing is written to
 * disk, so it runs where the run directory is mounted {@code noexec} (Debian's and Ubuntu's {@code /run}, which
 * initramfs-tools mounts so), nobody else can replace it, and no stale copy outlives the process. Once written it
 * is held by a read-only fd only: with no writer left, exec cannot fail with ETXTBSY.
 */
public final class MemoryExecutable implements AutoCloseable {
    private static final int MFD_CLOEXEC = 0x1, MFD_EXEC = 0x10;
    private int fd;

    private MemoryExecutable(int fd) { this.fd = fd; }

    public static MemoryExecutable of(String name, byte[] program) {
        int rw = create(name);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment bytes = arena.allocateFrom(Native.JAVA_BYTE, program);
            for (long off = 0; off < program.length; ) off += Libc.write("write " + name, rw, bytes.asSlice(off));
            int ro = Libc.openReadOnly("/proc/self/fd/" + rw);
            if (ro < 0) throw new BpfException("reopen " + name + " read-only", Errno.ENOENT);
            return new MemoryExecutable(ro);
        } finally {
            Libc.close(rw);
        }
    }

    /** memfd_create, asking for an executable file where the kernel (6.3+) wants that said, plainly before. */
    private static int create(String name) {
        MemorySegment cap = Scratch.get().capture;
        try {
            MemorySegment n = Scratch.get().path(name);
            int fd = (int) Native.Processes.MEMFD_CREATE.invokeExact(cap, n, MFD_CLOEXEC | MFD_EXEC);
            if (fd < 0 && Native.errno(cap) == Errno.EINVAL) fd = (int) Native.Processes.MEMFD_CREATE.invokeExact(cap, n, MFD_CLOEXEC);
            if (fd < 0) throw new BpfException("memfd_create " + name, Native.errno(cap));
            return fd;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** The path another process runs it by, while this one keeps it open. */
    public Path path() {
        if (fd < 0) throw new IllegalStateException("closed");
        return Path.of("/proc/" + ProcessHandle.current().pid() + "/fd/" + fd);
    }

    @Override
    public void close() {
        if (fd >= 0) Libc.close(fd);
        fd = -1;
    }
}
