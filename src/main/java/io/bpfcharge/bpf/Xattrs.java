package io.bpfcharge.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

/**
 * Extended attributes of a file, such as a cgroup directory: getxattr(2), setxattr(2), removexattr(2). The JDK's
 * UserDefinedFileAttributeView reaches only the {@code user.} namespace; oomd and systemd read {@code trusted.}.
 * A call takes its own small arena: these run a few times per scan, not per map.
 */
public final class Xattrs {
    private Xattrs() {}

    /** Whether {@code file} has the attribute {@code name} (e.g. "trusted.oomd_avoid"). */
    public static boolean has(Path file, String name) {
        try (Arena a = Arena.ofConfined()) {
            Scratch s = Scratch.get();
            long n = (long) Native.Xattr.GETXATTR.invokeExact(s.capture, a.allocateFrom(file.toString()), a.allocateFrom(name),
                    MemorySegment.NULL, 0L);
            if (n >= 0) return true;
            int errno = Native.errno(s.capture);
            if (errno == Errno.ENODATA) return false;
            throw new BpfException("getxattr " + name + " " + file, errno);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** Sets {@code name} to {@code value} (ASCII), creating or replacing it. */
    public static void set(Path file, String name, String value) {
        try (Arena a = Arena.ofConfined()) {
            Scratch s = Scratch.get();
            MemorySegment v = a.allocateFrom(value);
            int r = (int) Native.Xattr.SETXATTR.invokeExact(s.capture, a.allocateFrom(file.toString()), a.allocateFrom(name),
                    v, v.byteSize() - 1, 0);
            if (r < 0) throw new BpfException("setxattr " + name + " " + file, Native.errno(s.capture));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** Removes {@code name}; false when it was not there. */
    public static boolean remove(Path file, String name) {
        try (Arena a = Arena.ofConfined()) {
            Scratch s = Scratch.get();
            int r = (int) Native.Xattr.REMOVEXATTR.invokeExact(s.capture, a.allocateFrom(file.toString()), a.allocateFrom(name));
            if (r == 0) return true;
            int errno = Native.errno(s.capture);
            if (errno == Errno.ENODATA) return false;
            throw new BpfException("removexattr " + name + " " + file, errno);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }
}
