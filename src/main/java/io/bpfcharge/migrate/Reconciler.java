package io.bpfcharge.migrate;

import io.bpfcharge.bpf.BpfException;
import io.bpfcharge.bpf.BpfObject;
import io.bpfcharge.bpf.MapFd;
import io.bpfcharge.bpf.MapInfo;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;

/**
 * Settles what was written to one map ({@code src}) after the baseline was taken into the other ({@code dst}),
 * once {@code src} is quiescent (after the swap, its grace period, and once nothing else holds it): for each
 * key whose value in {@code src} differs from the baseline, {@code overwrite} writes that value unless
 * {@code dst}'s value moved away from the baseline too, and {@code sum} adds the difference atomically with
 * bpf/merge_sum.bpf.c. A migration settles the old map into the replacement; one rolled back after its swap
 * settles the replacement into the old map (the same baseline: both maps held it at the swap). Both can run
 * again after a crash without counting anything twice: overwrite skips keys already settled (they now
 * differ from the baseline in {@code dst}), and sum takes each delta off {@code src} in the same program run.
 * Array slots that were never written read as zero, so for arrays "absent" means all-zero.
 */
final class Reconciler {
    private static final int MAX_KEY = 512, MAX_WORDS = 512;

    private Reconciler() {}

    /**
     * @param read also receives every entry read from {@code src} (may be null): the baseline of a later pass
     * @param sum {@link #sumProgram} loaded for these two maps, for {@code merge} sum; else null
     * @return keys whose value was carried over
     */
    static long reconcile(MapFd src, MapFd dst, MapInfo info, Baseline base, MigrationRequest.Merge merge,
                          Copier.Sink read, BpfObject sum) {
        if ((sum != null) != (merge == MigrationRequest.Merge.SUM)) throw new IllegalArgumentException("sum needs its program");
        int ks = info.keySize(), vs = info.userValueSize();
        boolean array = info.type().isArray();
        long[] merged = {0};
        Copier.Sink write = Copier.writer(dst, info);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment zero = arena.allocate(vs, 8), cur = arena.allocate(vs, 8);
            MemorySegment args = sum == null ? null : arena.allocate(MAX_KEY + 8L * MAX_WORDS, 8);
            Copier.read(src, info, (keys, values, n) -> {
                if (read != null) read.accept(keys, values, n);
                for (int i = 0; i < n; i++) {
                    MemorySegment k = keys.asSlice((long) i * ks, ks), f = values.asSlice((long) i * vs, vs);
                    int b = base.find(k);
                    MemorySegment bv = b >= 0 ? base.value(b) : array ? zero : null;
                    if (bv != null && f.mismatch(bv) == -1) continue;
                    boolean done = sum != null ? addDelta(sum, args, k, f, bv, info)
                            : overwrite(dst, write, k, f, bv, cur, zero, array);
                    if (done) {
                        merged[0]++;
                        Crash.point("reconcile");
                    }
                }
            });
            if (sum == null && !array) {
                // Keys src dropped after the baseline: drop them too, unless dst changed them.
                base.unseen().forEach(i -> {
                    MemorySegment k = base.key(i);
                    if (dst.lookup(k, cur) && cur.mismatch(base.value(i)) == -1 && dst.delete(k)) merged[0]++;
                });
            }
        }
        return merged[0];
    }

    /** Whether {@code dst}'s value still equals the baseline's ({@code bv}, null when the key was absent). */
    static boolean unchanged(MemorySegment now, MemorySegment bv) {
        return now == null ? bv == null : bv != null && now.mismatch(bv) == -1;
    }

    private static boolean overwrite(MapFd dst, Copier.Sink write, MemorySegment k, MemorySegment f, MemorySegment bv,
                                     MemorySegment cur, MemorySegment zero, boolean array) {
        MemorySegment now = dst.lookup(k, cur) ? cur : array ? zero : null;
        if (!unchanged(now, bv)) return false; // dst's writers moved on too: their value is newer
        write.accept(k, f, 1); // through the writer: a map of maps takes inner map fds, not the ids read
        return true;
    }
    /** Sums the per-CPU copies of each u64 word, old minus baseline, and adds that in the kernel. */
    private static boolean addDelta(BpfObject sum, MemorySegment args, MemorySegment k, MemorySegment f,
                                    MemorySegment bv, MapInfo info) {
        int words = info.valueSize() / 8, cpus = info.userValueSize() / info.valueSize();
        boolean any = false;
        for (int w = 0; w < words; w++) {
            long d = 0;
            for (int c = 0; c < cpus; c++) {
                long off = ((long) c * words + w) * 8;
                d += f.get(ValueLayout.JAVA_LONG_UNALIGNED, off) - (bv == null ? 0 : bv.get(ValueLayout.JAVA_LONG_UNALIGNED, off));
            }
            args.set(ValueLayout.JAVA_LONG, MAX_KEY + 8L * w, d);
            any |= d != 0;
        }
        if (!any) return false;
        args.asSlice(0, k.byteSize()).copyFrom(k);
        int ret = sum.testRun("merge_sum", 0, MemorySegment.NULL, args);
        if (ret != 0) throw new BpfException("merge_sum: key vanished while adding", io.bpfcharge.bpf.Errno.ENOENT);
        return true;
    }

    /** bpf/merge_sum.bpf.c loaded over the two maps: it holds each of them (an fd, and its program) until closed. */
    static BpfObject sumProgram(MapFd src, MapFd dst, MapInfo info) {
        byte[] rodata = ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(info.valueSize() / 8).array();
        return BpfObject.load("merge_sum", Map.of("dst", dst, "src", src), rodata);
    }
}
