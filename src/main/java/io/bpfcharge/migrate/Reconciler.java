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
    static long reconcile(MapFd old, MapFd twin, MapInfo info, Baseline base, MigrationRequest.Merge merge) {
        int ks = info.keySize(), vs = info.userValueSize();
        boolean array = info.type().isArray();
        long[] merged = {0};
        try (Arena arena = Arena.ofConfined();
             MergeSum sum = merge == MigrationRequest.Merge.SUM ? MergeSum.load(twin, old, info.valueSize() / 8) : null) {
            MemorySegment zero = arena.allocate(vs, 8), current = arena.allocate(vs, 8);
            long[] delta = new long[info.valueSize() / 8];
            Copier.read(old, info, (keys, values, n) -> {
                for (int i = 0; i < n; i++) {
                    MemorySegment key = keys.asSlice((long) i * ks, ks), last = values.asSlice((long) i * vs, vs);
                    int record = base.find(key);
                    MemorySegment copied = record >= 0 ? base.value(record) : array ? zero : null;
                    if (copied != null && last.mismatch(copied) == -1) continue;
                    boolean done = sum != null ? addDelta(sum, delta, key, last, copied, info)
                            : overwrite(twin, key, last, copied, current, zero, array);
                    if (done) {
                        merged[0]++;
                        Crash.point("reconcile");
                    }
                }
            });
            if (sum == null && !array) {
                // Keys the old map dropped after the copy: drop them too, unless the new map changed them.
                base.unseen().forEach(i -> {
                    MemorySegment key = base.key(i);
                    if (twin.lookup(key, current) && current.mismatch(base.value(i)) == -1 && twin.delete(key)) merged[0]++;
                });
            }
        }
        return merged[0];
    }

    /**
     * @param last the old map's final value
     * @param copied what the copy put in the twin (the baseline), null when the key was not there
     */
    private static boolean overwrite(MapFd twin, MemorySegment key, MemorySegment last, MemorySegment copied,
                                     MemorySegment current, MemorySegment zero, boolean array) {
        MemorySegment now = twin.lookup(key, current) ? current : array ? zero : null;
        boolean unchanged = now == null ? copied == null : copied != null && now.mismatch(copied) == -1;
        if (!unchanged) return false; // the new map's writers moved on: their value is newer
        twin.update(key, last, MapFd.BPF_ANY);
        return true;
    }

    /** Sums the per-CPU copies of each u64 word, old minus baseline, and adds that in the kernel. */
    private static boolean addDelta(MergeSum sum, long[] delta, MemorySegment key, MemorySegment last,
                                    MemorySegment copied, MapInfo info) {
        int words = delta.length, cpus = info.userValueSize() / info.valueSize();
        boolean any = false;
        for (int word = 0; word < words; word++) {
            long d = 0;
            for (int cpu = 0; cpu < cpus; cpu++) {
                long off = ((long) cpu * words + word) * 8;
                d += last.get(ValueLayout.JAVA_LONG_UNALIGNED, off) - (copied == null ? 0 : copied.get(ValueLayout.JAVA_LONG_UNALIGNED, off));
            }
            delta[word] = d;
            any |= d != 0;
        }
        if (!any) return false;
        MergeSum.Result result = sum.add(key, delta);
        if (result != MergeSum.Result.OK)
            throw new BpfException("merge_sum: " + result.name().toLowerCase(java.util.Locale.ROOT).replace('_', ' '), Errno.ENOENT);
        return true;
    }
}
