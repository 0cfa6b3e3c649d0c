package io.bpfcharge.bpf;

import java.lang.foreign.MemorySegment;

/** Facts about the libbpf library in use. */
public final class Libbpf {
    private Libbpf() {}

    /** e.g. {@code v1.1}. */
    public static String version() {
        try {
            MemorySegment s = (MemorySegment) Native.Programs.VERSION_STRING.invokeExact();
            return s.reinterpret(64).getString(0);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }
}
