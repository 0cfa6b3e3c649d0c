package io.bpfcharge.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Map;

/**
 * bpf/map_refs.bpf.c loaded against one map: reads that map's reference counts in one program run, where
 * {@link InventoryIterators#users} walks every map in the kernel (4 ms of CPU at 10,000 maps). The loaded
 * program holds a reference on the map (not a user one) and is listed among the programs that use it: close
 * this before waiting for the map to be freed (the kernel drops it an RCU grace period later).
 */
public final class MapRefs implements AutoCloseable {
    /**
     * @param users the kernel's user references: fds (open files, not their dups) and pins
     * @param refs every reference: users, programs (this one too), map-in-map slots, iterator links
     */
    public record Counts(long users, long refs) {
        /** References that are not user ones, but this program's: loaded programs, map-in-map slots, links. */
        public long others() { return refs - users - 1; }
    }

    /** The program's argument (bpf/map_refs.h): which count it returns. */
    private static final long USERS = 0, ALL = 1;

    private final BpfObject object;
    private final int progFd, progId;
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment which = arena.allocate(Native.L);

    private MapRefs(BpfObject object) {
        this.object = object;
        this.progFd = object.programFd("map_refs");
        this.progId = ProgFd.infoOf(progFd).id();
    }

    /** Loads the program against {@code map}. Throws BpfException when the kernel refuses it (its map type, say). */
    public static MapRefs load(MapFd map) {
        return new MapRefs(BpfObject.load("map_refs", Map.of("target", map), null));
    }

    /** The id of the loaded program, to leave out of the programs that use the map. */
    public int programId() { return progId; }

    /**
     * Two runs, one count each (a raw tracepoint program returns a value, it cannot write its context). A reference
     * taken or dropped between them shows in {@link Counts#others} as one off, which only makes Quiescence look at
     * the loaded programs as well.
     */
    public Counts read() {
        long users = count(USERS);
        return new Counts(users, count(ALL));
    }

    private long count(long kind) {
        which.set(Native.L, 0, kind);
        return Integer.toUnsignedLong(ProgFd.testRun(progFd, 0, MemorySegment.NULL, which));
    }

    @Override
    public void close() {
        object.close();
        arena.close();
    }
}
