package io.bpfcharge.migrate;

import io.bpfcharge.bpf.BpfException;
import io.bpfcharge.bpf.Errno;
import io.bpfcharge.bpf.MapFd;
import io.bpfcharge.bpf.MapInfo;
import io.bpfcharge.bpf.MergeSum;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Settles what programs wrote to the old map after the baseline was taken, once the old map is quiescent
 * (after the swap and a grace period): for each key whose old value differs from the baseline,
 * {@code overwrite} writes the old value unless the new map's value moved away from the baseline too, and
 * {@code sum} adds the difference atomically with bpf/merge_sum.bpf.c. Both can run again after a crash
 * without counting anything twice: overwrite skips keys already settled (they now differ from the
 * baseline in the new map), and sum takes each delta off the old map in the same program run.
 * Array slots that were never written read as zero, so for arrays "absent" means all-zero.
 */
final class Reconciler {
    private Reconciler() {}

    /** @return keys whose value was carried over */
    static long reconcile(MapFd old, MapFd neu, MapInfo info, Baseline base, MigrationRequest.Merge merge) {
        int ks = info.keySize(), vs = info.userValueSize();
        boolean array = info.type().isArray();
        long[] merged = {0};
        try (Arena arena = Arena.ofConfined();
             MergeSum sum = merge == MigrationRequest.Merge.SUM ? MergeSum.load(neu, old, info.valueSize() / 8) : null) {
            MemorySegment zero = arena.allocate(vs, 8), cur = arena.allocate(vs, 8);
            long[] delta = new long[info.valueSize() / 8];
            Copier.read(old, info, (keys, values, n) -> {
                for (int i = 0; i < n; i++) {
                    MemorySegment k = keys.asSlice((long) i * ks, ks), f = values.asSlice((long) i * vs, vs);
                    int b = base.find(k);
                    MemorySegment bv = b >= 0 ? base.value(b) : array ? zero : null;
                    if (bv != null && f.mismatch(bv) == -1) continue;
                    boolean done = sum != null ? addDelta(sum, delta, k, f, bv, info) : overwrite(neu, k, f, bv, cur, zero, array);
                    if (done) {
                        merged[0]++;
                        Crash.point("reconcile");
                    }
                }
            });
            if (sum == null && !array) {
                // Keys the old map dropped after the copy: drop them too, unless the new map changed them.
                base.unseen().forEach(i -> {
                    MemorySegment k = base.key(i);
                    if (neu.lookup(k, cur) && cur.mismatch(base.value(i)) == -1 && neu.delete(k)) merged[0]++;
                });
            }
        }
        return merged[0];
    }

    private static boolean overwrite(MapFd neu, MemorySegment k, MemorySegment f, MemorySegment bv, MemorySegment cur,
                                     MemorySegment zero, boolean array) {
        MemorySegment now = neu.lookup(k, cur) ? cur : array ? zero : null;
        boolean unchanged = now == null ? bv == null : bv != null && now.mismatch(bv) == -1;
        if (!unchanged) return false; // the new map's writers moved on: their value is newer
        neu.update(k, f, MapFd.BPF_ANY);
        return true;
    }

    /** Sums the per-CPU copies of each u64 word, old minus baseline, and adds that in the kernel. */
    private static boolean addDelta(MergeSum sum, long[] delta, MemorySegment k, MemorySegment f,
                                    MemorySegment bv, MapInfo info) {
        int words = delta.length, cpus = info.userValueSize() / info.valueSize();
        boolean any = false;
        for (int w = 0; w < words; w++) {
            long d = 0;
            for (int c = 0; c < cpus; c++) {
                long off = ((long) c * words + w) * 8;
                d += f.get(ValueLayout.JAVA_LONG_UNALIGNED, off) - (bv == null ? 0 : bv.get(ValueLayout.JAVA_LONG_UNALIGNED, off));
            }
            delta[w] = d;
            any |= d != 0;
        }
        if (!any) return false;
        MergeSum.Result result = sum.add(k, delta);
        if (result != MergeSum.Result.OK)
            throw new BpfException("merge_sum: " + result.name().toLowerCase(java.util.Locale.ROOT).replace('_', ' '), Errno.ENOENT);
        return true;
    }
}
