package io.bpfcharge.migrate;

import io.bpfcharge.bpf.BpfException;
import io.bpfcharge.bpf.Errno;
import io.bpfcharge.bpf.MapBatch;
import io.bpfcharge.bpf.MapFd;
import io.bpfcharge.bpf.MapInfo;
import io.bpfcharge.bpf.MergeSum;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Settles what was written to one map ({@code src}) after the baseline was taken into the other ({@code dst}),
 * once nothing else holds {@code src} (after the swap, its grace period, and the holders' wait): for each key
 * whose value in {@code src} differs from the baseline, {@code overwrite} writes that value unless {@code dst}'s
 * value moved away from the baseline too, and {@code sum} adds the difference atomically with
 * bpf/merge_sum.bpf.c. A migration settles the old map into the twin; one rolled back after its swap settles
 * the twin into the old map. Both can run again after a crash without counting anything twice: overwrite
 * skips keys already settled (they now differ from the baseline in {@code dst}), and sum takes each delta off
 * {@code src} in the same program run. Array slots that were never written read as zero, so for arrays
 * "absent" means all-zero.
 */
final class Reconciler {
    private Reconciler() {}

    /**
     * @param read also receives every entry read from {@code src} (may be null): the baseline of a later pass
     * @param sum merge_sum loaded over {@code dst} and {@code src} for {@code merge} sum ({@link #sum}); else null
     * @return keys whose value was carried over
     */
    static long reconcile(MapFd src, MapFd dst, MapInfo info, Baseline base, MigrationRequest.Merge merge,
                          Copier.Sink read, MergeSum sum) {
        if ((sum != null) != (merge == MigrationRequest.Merge.SUM)) throw new IllegalArgumentException("sum needs merge_sum");
        int vs = info.userValueSize();
        boolean array = info.type().isArray();
        long[] merged = {0};
        Copier.Sink write = Copier.writer(dst, info);
        ByteBuffer zero = ByteBuffer.allocate(vs), current = ByteBuffer.allocate(vs).order(ByteOrder.nativeOrder());
        long[] delta = new long[info.valueSize() / 8];
        try (MapBatch one = MapBatch.of(info, 1)) {
            Copier.read(src, info, batch -> {
                if (read != null) read.accept(batch);
                for (int i = 0; i < batch.size(); i++) {
                    ByteBuffer key = batch.key(i), last = batch.value(i);
                    int record = base.find(key);
                    if (record >= 0 ? base.holds(record, last) : array && last.mismatch(zero) == -1) continue;
                    ByteBuffer copied = record >= 0 ? base.value(record) : array ? zero : null;
                    boolean done = sum != null ? addDelta(sum, dst, current, delta, key, last, copied, info)
                            : overwrite(dst, write, one, key, last, copied, current, zero, array);
                    if (done) {
                        merged[0]++;
                        Crash.point("reconcile");
                    }
                }
            });
        }
        if (sum == null && !array) {
            // Keys src dropped after the baseline: drop them too, unless dst changed them.
            base.unseen().forEach(i -> {
                ByteBuffer key = base.key(i);
                if (dst.lookup(key, current) && base.holds(i, current) && dst.delete(key)) merged[0]++;
            });
        }
        return merged[0];
    }

    /**
     * Gives a backfill's replacement back before any settling pass: it holds only what was written to it since
     * the swap (an array's other slots read zero and are skipped), all of it newer than the old map's values
     * then, unless the old map's value moved away from {@code atSwapBack} since: a writer of the old map after
     * the swap back is newer still, and its value stays (the overwrite rule, with that as the baseline).
     * @return keys written back
     */
    static long giveBack(MapFd twin, MapFd old, MapInfo info, Baseline atSwapBack) {
        boolean array = info.type().isArray();
        ByteBuffer zero = ByteBuffer.allocate(info.userValueSize()), current = ByteBuffer.allocate(info.userValueSize());
        Copier.Sink write = Copier.writer(old, info);
        long[] given = {0};
        try (MapBatch one = MapBatch.of(info, 1)) {
            Copier.read(twin, info, batch -> {
                for (int i = 0; i < batch.size(); i++) {
                    ByteBuffer key = batch.key(i), last = batch.value(i);
                    if (array && last.mismatch(zero) == -1) continue;
                    int record = atSwapBack.find(key);
                    ByteBuffer then = record >= 0 ? atSwapBack.value(record) : array ? zero : null;
                    // "then" is the old map's value, not the twin's: a twin value equal to it changes nothing either.
                    if (overwrite(old, write, one, key, last, then, current, zero, array)) given[0]++;
                }
            });
        }
        return given[0];
    }

    /** merge_sum over the two maps: it holds each of them (an fd, and its program) until closed. */
    static MergeSum sum(MapFd src, MapFd dst, MapInfo info) {
        return MergeSum.load(dst, src, info.valueSize() / 8);
    }

    /**
     * @param last src's final value
     * @param copied the baseline's value, null when the key was not there
     */
    private static boolean overwrite(MapFd dst, Copier.Sink write, MapBatch one, ByteBuffer key, ByteBuffer last,
                                     ByteBuffer copied, ByteBuffer current, ByteBuffer zero, boolean array) {
        ByteBuffer now = dst.lookup(key, current) ? current : array ? zero : null;
        if (overwrites(last, copied, now) != Overwrite.WRITE) return false;
        one.clear();
        one.add(key, last);
        write.accept(one); // through the writer: a map of maps takes inner map fds, not the ids read
        return true;
    }

    /** What overwrite does with one key. */
    enum Overwrite {
        /** src still holds the baseline's value: nothing was written there. */
        SRC_UNCHANGED,
        /** dst's writers changed it too: their value is newer and stays. */
        DST_CHANGED,
        /** src's value goes to dst. */
        WRITE
    }

    /**
     * The overwrite rule for one key; null stands for "absent" (arrays pass zeros instead).
     * @param last src's value now
     * @param copied the baseline's value
     * @param now dst's value now
     */
    static Overwrite overwrites(ByteBuffer last, ByteBuffer copied, ByteBuffer now) {
        if (same(last, copied)) return Overwrite.SRC_UNCHANGED;
        return same(now, copied) ? Overwrite.WRITE : Overwrite.DST_CHANGED;
    }

    private static boolean same(ByteBuffer a, ByteBuffer b) {
        return a == null ? b == null : b != null && a.mismatch(b) == -1;
    }

    /**
     * Sums the per-CPU copies of each u64 word, old minus baseline, and adds that in the kernel. A key new since
     * the baseline whose delta is zero is data too (a preallocated counter, a flag): it is added (as zero) when
     * dst lacks it, or a BPF program's lookup-then-add would never find it there (a backfill's baseline is empty).
     */
    private static boolean addDelta(MergeSum sum, MapFd dst, ByteBuffer current, long[] delta, ByteBuffer key,
                                    ByteBuffer last, ByteBuffer copied, MapInfo info) {
        int words = delta.length, cpus = info.userValueSize() / info.valueSize();
        boolean any = false;
        for (int word = 0; word < words; word++) {
            long d = 0;
            for (int cpu = 0; cpu < cpus; cpu++) {
                int off = (cpu * words + word) * 8;
                d += last.getLong(off) - (copied == null ? 0 : copied.getLong(off));
            }
            delta[word] = d;
            any |= d != 0;
        }
        if (!any && (copied != null || dst.lookup(key, current))) return false;
        MergeSum.Result result = sum.add(key, delta);
        if (result != MergeSum.Result.OK)
            throw new BpfException("merge_sum: " + result.name().toLowerCase(java.util.Locale.ROOT).replace('_', ' '), Errno.ENOENT);
        return true;
    }
}
