package io.bpfcharge.bpf;

import java.lang.foreign.MemorySegment;

/** The few libc calls bpfcharge needs on fds that Java did not open, and on /proc files read once per map. */
final class Libc {
    private static final int AT_FDCWD = -100, O_RDONLY = 0, O_DIRECTORY = 0200000, O_CLOEXEC = 02000000;

    private static final int SC_PAGESIZE = 30;

    private Libc() {}

    /** The kernel's page size: the unit arena pages are allocated and charged in. */
    static final long PAGE_SIZE = pageSize();

    private static long pageSize() {
        try {
            return (long) Native.Files.SYSCONF.invokeExact(Scratch.get().capture, SC_PAGESIZE);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /**
     * This process's /proc/self/fd and /proc/self/fdinfo, opened once: a name looked up relative
     * to them skips resolving /proc/self for every one of 10,000 fds.
     */
    private static final class Self {
        static final int FD = open("/proc/self/fd"), FDINFO = open("/proc/self/fdinfo");

        private static int open(String path) {
            int fd = openDir(path);
            if (fd < 0) throw new BpfException("open " + path, Errno.ENOENT);
            return fd;
        }
    }

    static void close(int fd) {
        try {
            int ignored = (int) Native.Files.CLOSE.invokeExact(Scratch.get().capture, fd);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** Opens a file read-only; -1 when it cannot be opened. */
    static int openReadOnly(String path) { return openAt(AT_FDCWD, path, 0); }

    /** Opens a directory to list it; -1 when it cannot be opened. */
    static int openDir(String path) { return openAt(AT_FDCWD, path, O_DIRECTORY); }

    /** openat(2) read-only; -1 when it fails. */
    private static int openAt(int dir, String path, int flags) {
        Scratch s = Scratch.get();
        try {
            return (int) Native.Files.OPENAT.invokeExact(s.capture, dir, s.path(path), O_RDONLY | O_CLOEXEC | flags);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /**
     * The fdinfo text of one of this process's fds in {@link Scratch#bytes}; returns its length, or -1
     * when the fd is closed. Opened relative to the open fdinfo dir: no path walk per map.
     */
    static int readFdinfo(int fd) {
        int file = openAt(Self.FDINFO, Integer.toString(fd), 0);
        if (file < 0) return -1;
        Scratch s = Scratch.get();
        try {
            // fdinfo is one seq_file record: a single read returns all of it when it fits the buffer.
            long n = (long) Native.Files.READ.invokeExact(s.capture, file, s.text, s.text.byteSize());
            if (n < 0 || n >= s.text.byteSize()) return -1;
            s.bytes((int) n);
            return (int) n;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        } finally {
            close(file);
        }
    }

    /** What /proc/self/fd/FD links to ("anon_inode:bpf-map"), or "" when it cannot be read. */
    static String fdTarget(int fd) {
        Scratch s = Scratch.get();
        try {
            long n = (long) Native.Files.READLINKAT.invokeExact(s.capture, Self.FD, s.path(Integer.toString(fd)), s.text, s.text.byteSize());
            if (n <= 0) return "";
            return new String(s.bytes((int) n), 0, (int) n, java.nio.charset.StandardCharsets.US_ASCII);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** write(2) of a segment, retried on EINTR; how many bytes were written. */
    static long write(String op, int fd, MemorySegment from) { return transfer(Native.Files.WRITE, op, fd, from); }

    /** read(2) into a segment, retried on EINTR; 0 at the end. */
    static long read(String op, int fd, MemorySegment into) { return transfer(Native.Files.READ, op, fd, into); }

    private static long transfer(java.lang.invoke.MethodHandle call, String op, int fd, MemorySegment buf) {
        MemorySegment cap = Scratch.get().capture;
        try {
            while (true) {
                long n = (long) call.invokeExact(cap, fd, buf, buf.byteSize());
                if (n >= 0) return n;
                int errno = Native.errno(cap);
                if (errno != Errno.EINTR && errno != Errno.EAGAIN) throw new BpfException(op, errno);
            }
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }
}
