package io.bpfcharge.testing;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Allocates an arena map's pages the way its user space does: map it shared and write to a page, which the
 * kernel's fault handler allocates and charges to the map's memory cgroup. Only tests map arenas, so this
 * call lives here rather than in the product's bindings.
 */
final class ArenaPages {
    private static final int PROT_READ = 1, PROT_WRITE = 2, MAP_SHARED = 1;
    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle MMAP = LINKER.downcallHandle(LINKER.defaultLookup().findOrThrow("mmap"),
            FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT,
                    ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
    private static final MethodHandle MUNMAP = LINKER.downcallHandle(LINKER.defaultLookup().findOrThrow("munmap"),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
    private static final long PAGE = 4096; // x86-64 and arm64 with 4K pages: the machines the suite runs on

    private ArenaPages() {}

    /** Maps the arena (all {@code maxPages} pages, as its creator must) and writes one byte to each of the first {@code pages}. */
    static void touch(int fd, int maxPages, int pages) {
        try {
            map(fd, maxPages * PAGE, pages);
        } catch (Throwable t) {
            throw new IllegalStateException("touching arena fd " + fd, t);
        }
    }

    private static void map(int fd, long len, int pages) throws Throwable {
        MemorySegment at = ((MemorySegment) MMAP.invokeExact(MemorySegment.NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0L))
                .reinterpret(len);
        if (at.address() == -1L) throw new IllegalStateException("mmap of arena fd " + fd + " failed");
        for (long i = 0; i < pages; i++) at.set(ValueLayout.JAVA_BYTE, i * PAGE, (byte) 1);
        // The pages stay allocated after munmap: an arena frees them only with the map (or a program's free).
        int ignored = (int) MUNMAP.invokeExact(at, len);
    }
}
