package io.bpfcharge.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/** A loaded BPF program. */
public final class ProgFd extends BpfFd {
    ProgFd(int fd) { super(fd); }

    public static ProgFd byId(int id) {
        return new ProgFd(Native.checked("open prog id " + id, () -> (int) Native.PROG_GET_FD_BY_ID.invokeExact(id)));
    }

    /** Ids of every loaded program, ascending. */
    public static List<Integer> ids() { return Ids.all(Native.PROG_GET_NEXT_ID, "next prog id"); }

    public ProgInfo info() {
        try (Arena arena = Arena.ofConfined()) {
            // First call learns how many maps; the second fetches their ids.
            MemorySegment info = arena.allocate(ProgInfo.SIZE);
            getInfo(arena, info);
            int nrMaps = info.get(Native.I, 52);
            List<Integer> mapIds = new ArrayList<>(nrMaps);
            if (nrMaps > 0) {
                MemorySegment ids = arena.allocate(Native.I, nrMaps);
                info.fill((byte) 0);
                info.set(Native.I, 52, nrMaps);
                info.set(Native.L, 56, ids.address());
                getInfo(arena, info);
                int got = Math.min(nrMaps, info.get(Native.I, 52));
                for (int i = 0; i < got; i++) mapIds.add(ids.getAtIndex(Native.I, i));
            }
            return new ProgInfo(info.get(Native.I, 4), info.get(Native.I, 0), MapInfo.cString(info, 64, 16), List.copyOf(mapIds));
        }
    }

    private void getInfo(Arena arena, MemorySegment info) {
        MemorySegment len = u32(arena, ProgInfo.SIZE);
        Native.checked("prog info", () -> (int) Native.OBJ_GET_INFO_BY_FD.invokeExact(fd(), info, len));
    }

    /** Runs the program {@code repeat} times on an empty context (BPF_PROG_TEST_RUN); returns its last return value. */
    public int testRun(int repeat) { return testRun(fd(), repeat, MemorySegment.NULL, MemorySegment.NULL); }

    static int testRun(int progFd, int repeat, MemorySegment data, MemorySegment ctx) {
        try (Arena arena = Arena.ofConfined()) {
            // struct bpf_test_run_opts (libbpf 1.1): sz@0, data_in@8, data_size_in@24, ctx_in@32, ctx_size_in@48,
            // retval@56, repeat@60, up to batch_size@76.
            MemorySegment opts = arena.allocate(80, 8);
            opts.set(Native.L, 0, 80);
            opts.set(Native.A, 8, data);
            opts.set(Native.I, 24, (int) data.byteSize());
            opts.set(Native.A, 32, ctx);
            opts.set(Native.I, 48, (int) ctx.byteSize());
            opts.set(Native.I, 60, repeat);
            BpfException.check("test run prog", (int) Native.PROG_TEST_RUN_OPTS.invokeExact(progFd, opts));
            return opts.get(Native.I, 56);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }
}
