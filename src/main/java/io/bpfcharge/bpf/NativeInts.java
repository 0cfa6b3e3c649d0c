package io.bpfcharge.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A fixed array of ints in native memory, zeroed, freed at {@link #close}: large, short-lived tables (a
 * migration's baseline index: 8 MB for a 1,000,000-entry map) that would otherwise take that much of a daemon's
 * small Java heap ({@code serve} runs with a 20 MB old generation) for the length of one migration.
 */
public final class NativeInts implements AutoCloseable {
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment data;
    private final int length;

    public NativeInts(int length) {
        this.length = length;
        this.data = arena.allocate(ValueLayout.JAVA_INT, length); // zeroed by Arena.allocate
    }

    public int length() { return length; }

    public int get(int i) { return data.getAtIndex(ValueLayout.JAVA_INT, i); }

    public void set(int i, int value) { data.setAtIndex(ValueLayout.JAVA_INT, i, value); }

    @Override
    public void close() { arena.close(); }
}
