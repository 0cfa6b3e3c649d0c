package io.bpfcharge.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;

/** Walks the kernel's id space of one object kind (BPF_*_GET_NEXT_ID). */
final class Ids {
    private Ids() {}

    static List<Integer> all(MethodHandle getNextId, String op) {
        List<Integer> ids = new ArrayList<>();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment next = arena.allocate(Native.I);
            int id = 0;
            while (true) {
                int ret = (int) getNextId.invokeExact(id, next);
                if (ret == -Errno.ENOENT) return ids;
                BpfException.check(op, ret);
                id = next.get(Native.I, 0);
                ids.add(id);
            }
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }
}
