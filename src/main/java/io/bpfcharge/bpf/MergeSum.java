package io.bpfcharge.bpf;

import io.bpfcharge.bpf.Structs.MergeArgs;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;

/**
 * bpf/merge_sum.bpf.c loaded against two maps of u64 counters: {@link #add} adds a delta to a key of
 * {@code dst} atomically against the programs that write it, and takes the same delta off {@code src} in
 * the same program run.
 */
public final class MergeSum implements AutoCloseable {
    /** Longest key and value (in u64 words) the program takes. */
    public static final int MAX_KEY = MergeArgs.MAX_KEY, MAX_WORDS = MergeArgs.MAX_WORDS;

    /** enum merge_result of bpf/merge_sum.h, in the order of its values (0, 1, 2). */
    public enum Result {
        OK,
        /** dst neither took the key nor holds it: full, or a program deleted it meanwhile. */
        NOT_INSERTED,
        /** The program could not read its context. */
        BAD_ARGS
    }

    private final BpfObject object;
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment args = arena.allocate(MergeArgs.LAYOUT);

    private MergeSum(BpfObject object) { this.object = object; }

    /** @param valueWords the maps' value size in u64 words (at most {@link #MAX_WORDS}) */
    public static MergeSum load(MapFd dst, MapFd src, int valueWords) {
        byte[] rodata = ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(valueWords).array();
        return new MergeSum(BpfObject.load("merge_sum", Map.of("dst", dst, "src", src), rodata));
    }

    /** Adds {@code delta[w]} to word w of {@code key}'s value in dst and subtracts it in src. */
    public Result add(ByteBuffer key, long[] delta) {
        MemorySegment.copy(MemorySegment.ofBuffer(key), 0, args, MergeArgs.KEY, key.remaining());
        MemorySegment.copy(delta, 0, args, Native.L, MergeArgs.DELTA, delta.length);
        int ret = ProgFd.testRun(object.programFd("merge_sum"), 0, MemorySegment.NULL, args);
        if (ret < 0 || ret >= Result.values().length) throw new IllegalStateException("merge_sum returned " + ret);
        return Result.values()[ret];
    }

    @Override
    public void close() {
        object.close();
        arena.close();
    }
}
