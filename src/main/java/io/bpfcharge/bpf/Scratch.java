package io.bpfcharge.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Native buffers reused by one thread for the small calls a scan makes per map and per pin
 * (info, fdinfo, paths, errno): an arena per call costs more than the syscall itself when
 * there are 10,000 maps. Each method takes a buffer, uses it and is done with it before it
 * returns, and never calls another method that takes the same buffer meanwhile.
 */
final class Scratch {
    private static final ThreadLocal<Scratch> PER_THREAD = ThreadLocal.withInitial(Scratch::new);

    final MemorySegment capture;
    final MemorySegment u32;
    /** struct bpf_map_info. */
    final MemorySegment info;
    /** A C string passed in (a path). */
    final MemorySegment path;
    /** What read/readlink wrote out. */
    final MemorySegment text;
    final byte[] bytes;
    private final Arena arena = Arena.ofAuto(); // freed with the thread
    /** A single map element's key and value, grown to the largest asked for. */
    private MemorySegment key = MemorySegment.NULL, value = MemorySegment.NULL;

    private Scratch() {
        capture = arena.allocate(Native.CAPTURE);
        u32 = arena.allocate(Native.I);
        info = arena.allocate(Structs.BpfMapInfo.LAYOUT);
        path = arena.allocate(4096);
        text = arena.allocate(4096);
        bytes = new byte[4096];
    }

    static Scratch get() { return PER_THREAD.get(); }

    /** Writes a C string into {@link #path}. */
    MemorySegment path(String p) {
        path.setString(0, p);
        return path;
    }

    /** {@link #key}'s first {@code size} bytes. */
    MemorySegment key(long size) {
        if (key.byteSize() < size) key = arena.allocate(Math.max(size, 2 * key.byteSize()), 8);
        return key.asSlice(0, size);
    }

    /** {@link #value}'s first {@code size} bytes. */
    MemorySegment value(long size) {
        if (value.byteSize() < size) value = arena.allocate(Math.max(size, 2 * value.byteSize()), 8);
        return value.asSlice(0, size);
    }

    /** Copies the first n bytes of {@link #text} to {@link #bytes}. */
    byte[] bytes(int n) {
        MemorySegment.copy(text, Native.JAVA_BYTE, 0, bytes, 0, n);
        return bytes;
    }
}
