package io.bpfcharge.bpf;

import io.bpfcharge.bpf.Structs.BpfProgInfo;
import io.bpfcharge.bpf.Structs.TestRunOpts;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/** A loaded BPF program. */
public final class ProgFd extends BpfFd {
    ProgFd(int fd) { super(fd); }

    public static ProgFd byId(int id) {
        return new ProgFd(Native.checked("open prog id " + id, () -> (int) Native.Ids.PROG_GET_FD_BY_ID.invokeExact(id)));
    }

    /** The program with this id; empty when there is none (unloaded meanwhile). Other failures throw. */
    public static java.util.Optional<ProgFd> find(int id) {
        int fd = Native.call(() -> (int) Native.Ids.PROG_GET_FD_BY_ID.invokeExact(id));
        if (fd == -Errno.ENOENT) return java.util.Optional.empty();
        if (fd < 0) throw new BpfException("open prog id " + id, -fd);
        return java.util.Optional.of(new ProgFd(fd));
    }

    /** Every loaded program's info, by ascending id; one unloaded while listed is left out. */
    public static List<ProgInfo> loaded() {
        List<ProgInfo> infos = new ArrayList<>();
        for (int id : ids()) find(id).ifPresent(fd -> {
            try (fd) {
                infos.add(fd.info());
            }
        });
        return infos;
    }

    /** Ids of every loaded program, ascending. */
    public static List<Integer> ids() { return Ids.all(Native.Ids.PROG_GET_NEXT_ID, "next prog id"); }

    public ProgInfo info() { return infoOf(fd()); }

    /** The info of a program whose fd someone else owns (a loaded object's). */
    static ProgInfo infoOf(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            // First call learns how many maps; the second fetches their ids.
            MemorySegment info = arena.allocate(BpfProgInfo.LAYOUT);
            getInfo(arena, fd, info);
            int nrMaps = (int) BpfProgInfo.NR_MAP_IDS.get(info, 0L);
            List<Integer> mapIds = new ArrayList<>(nrMaps);
            if (nrMaps > 0) {
                MemorySegment ids = arena.allocate(Native.I, nrMaps);
                info.fill((byte) 0);
                BpfProgInfo.NR_MAP_IDS.set(info, 0L, nrMaps);
                BpfProgInfo.MAP_IDS.set(info, 0L, ids.address());
                getInfo(arena, fd, info);
                int got = Math.min(nrMaps, (int) BpfProgInfo.NR_MAP_IDS.get(info, 0L));
                for (int i = 0; i < got; i++) mapIds.add(ids.getAtIndex(Native.I, i));
            }
            return new ProgInfo((int) BpfProgInfo.ID.get(info, 0L), (int) BpfProgInfo.TYPE.get(info, 0L),
                    Structs.cString(info, BpfProgInfo.NAME, 16), List.copyOf(mapIds));
        }
    }

    private static void getInfo(Arena arena, int fd, MemorySegment info) {
        MemorySegment len = u32(arena, (int) info.byteSize());
        Native.checked("prog info", () -> (int) Native.Ids.OBJ_GET_INFO_BY_FD.invokeExact(fd, info, len));
    }

    /** Runs the program {@code repeat} times on an empty context (BPF_PROG_TEST_RUN); returns its last return value. */
    public int testRun(int repeat) { return testRun(fd(), repeat, MemorySegment.NULL, MemorySegment.NULL); }

    static int testRun(int progFd, int repeat, MemorySegment data, MemorySegment ctx) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment opts = arena.allocate(TestRunOpts.LAYOUT);
            TestRunOpts.SZ.set(opts, 0L, opts.byteSize());
            TestRunOpts.DATA_IN.set(opts, 0L, data);
            TestRunOpts.DATA_SIZE_IN.set(opts, 0L, (int) data.byteSize());
            TestRunOpts.CTX_IN.set(opts, 0L, ctx);
            TestRunOpts.CTX_SIZE_IN.set(opts, 0L, (int) ctx.byteSize());
            TestRunOpts.REPEAT.set(opts, 0L, repeat);
            BpfException.check("test run prog", (int) Native.Programs.PROG_TEST_RUN_OPTS.invokeExact(progFd, opts));
            return (int) TestRunOpts.RETVAL.get(opts, 0L);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }
}
