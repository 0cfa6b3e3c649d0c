package io.bpfcharge.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.io.ByteArrayOutputStream;

/** The few libc calls bpfcharge needs on fds that Java did not open. */
final class Libc {
    private Libc() {}

    static void close(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cap = arena.allocate(Native.CAPTURE);
            int ignored = (int) Native.CLOSE.invokeExact(cap, fd);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** Reads an fd to its end (an iterator's output). */
    static byte[] readAll(String op, int fd) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(1 << 16);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cap = arena.allocate(Native.CAPTURE);
            MemorySegment buf = arena.allocate(1 << 16);
            while (true) {
                long n = (long) Native.READ.invokeExact(cap, fd, buf, buf.byteSize());
                if (n == 0) return out.toByteArray();
                if (n < 0) {
                    int errno = Native.errno(cap);
                    if (errno == Errno.EINTR || errno == Errno.EAGAIN) continue;
                    throw new BpfException(op, errno);
                }
                out.write(buf.asSlice(0, n).toArray(Native.JAVA_BYTE), 0, (int) n);
            }
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }
}
