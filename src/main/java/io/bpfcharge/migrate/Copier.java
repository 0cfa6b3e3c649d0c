package io.bpfcharge.migrate;

import io.bpfcharge.bpf.BpfException;
import io.bpfcharge.bpf.Cpus;
import io.bpfcharge.bpf.Errno;
import io.bpfcharge.bpf.MapFd;
import io.bpfcharge.bpf.MapInfo;
import io.bpfcharge.bpf.MapType;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.function.LongConsumer;

/**
 * Reads and copies map contents by type family: batch syscalls for hash, LRU, per-CPU and array maps
 * (BPF_MAP_*_BATCH: one syscall per few thousand entries), per element for LPM tries and for kernels or
 * maps that refuse batches, and id-to-fd translation for maps of maps. Buffers are allocated once per copy.
 */
final class Copier {
    /** Entries per batch: large enough that syscall cost vanishes, small enough to stay in cache-sized buffers. */
    static final int BATCH = 4096;

    private Copier() {}

    /** Receives the entries read, a batch at a time; segments are reused after it returns. */
    interface Sink {
        void accept(MemorySegment keys, MemorySegment values, int n);
    }

    static boolean batchable(MapType t) {
        return t.equals(MapType.HASH) || t.equals(MapType.PERCPU_HASH) || t.equals(MapType.LRU_HASH)
                || t.equals(MapType.LRU_PERCPU_HASH) || t.equals(MapType.ARRAY) || t.equals(MapType.PERCPU_ARRAY);
    }

    /** Copies every entry of {@code from} into {@code to}; each batch also goes to {@code also} (may be null). */
    static long copy(MapFd from, MapFd to, MapInfo info, Sink also, LongConsumer progress) {
        Sink write = writer(to, info);
        long[] total = {0};
        read(from, info, (k, v, n) -> {
            write.accept(k, v, n);
            if (also != null) also.accept(k, v, n);
            total[0] += n;
            progress.accept(total[0]);
            Crash.point("copy");
        });
        return total[0];
    }

    /** Reads every entry, in batches where the kernel allows it. Returns the number of entries read. */
    static long read(MapFd map, MapInfo info, Sink sink) {
        int ks = info.keySize(), vs = info.userValueSize();
        try (Arena arena = Arena.ofConfined()) {
            if (batchable(info.type())) {
                try {
                    return readBatches(map, ks, vs, arena, sink);
                } catch (BpfException e) {
                    if (e.errno() != Errno.EINVAL && e.errno() != Errno.ENOTSUPP && e.errno() != Errno.EOPNOTSUPP) throw e;
                    // e.g. maps with spin locks or timers: element by element below
                }
            }
            return readElements(map, ks, vs, arena, sink);
        }
    }

    private static long readBatches(MapFd map, int ks, int vs, Arena arena, Sink sink) {
        int cap = BATCH;
        MemorySegment keys = arena.allocate((long) ks * cap, 8), values = arena.allocate((long) vs * cap, 8);
        // in/out batch tokens: a bucket index (u32) for hashes, a key for arrays.
        MemorySegment in = arena.allocate(Math.max(ks, 8), 8), out = arena.allocate(Math.max(ks, 8), 8);
        MemorySegment count = arena.allocate(ValueLayout.JAVA_INT);
        MemorySegment token = MemorySegment.NULL;
        long total = 0;
        boolean more = true;
        while (more) {
            count.set(ValueLayout.JAVA_INT, 0, cap);
            try {
                more = map.lookupBatch(token, out, keys, values, count);
            } catch (BpfException e) {
                if (e.errno() != Errno.ENOSPC) throw e;
                // One hash bucket holds more entries than the batch: retry the same bucket with room for it.
                cap *= 4;
                keys = arena.allocate((long) ks * cap, 8);
                values = arena.allocate((long) vs * cap, 8);
                continue;
            }
            int n = count.get(ValueLayout.JAVA_INT, 0);
            if (n > 0) {
                sink.accept(keys, values, n);
                total += n;
            }
            in.copyFrom(out);
            token = in;
        }
        return total;
    }

    private static long readElements(MapFd map, int ks, int vs, Arena arena, Sink sink) {
        int cap = BATCH;
        MemorySegment keys = arena.allocate((long) ks * cap, 8), values = arena.allocate((long) vs * cap, 8);
        MemorySegment key = arena.allocate(ks, 8), next = arena.allocate(ks, 8);
        MemorySegment cur = MemorySegment.NULL;
        long total = 0;
        int n = 0;
        while (map.nextKey(cur, next)) {
            key.copyFrom(next);
            cur = key;
            MemorySegment v = values.asSlice((long) n * vs, vs);
            if (!map.lookup(key, v)) continue; // deleted since listed
            keys.asSlice((long) n * ks, ks).copyFrom(key);
            if (++n == cap) {
                sink.accept(keys, values, n);
                total += n;
                n = 0;
            }
        }
        if (n > 0) sink.accept(keys, values, n);
        return total + n;
    }

    /** Writes batches into a map: one update-batch syscall, or per element (LPM tries, maps of maps). */
    static Sink writer(MapFd to, MapInfo info) {
        int ks = info.keySize(), vs = info.userValueSize();
        if (info.type().isMapOfMaps()) {
            // Reading a map of maps yields inner map ids; writing takes fds.
            return (keys, values, n) -> {
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment fd = arena.allocate(ValueLayout.JAVA_INT);
                    for (int i = 0; i < n; i++) {
                        try (MapFd inner = MapFd.byId(values.getAtIndex(ValueLayout.JAVA_INT, i))) {
                            fd.set(ValueLayout.JAVA_INT, 0, inner.fd());
                            to.update(keys.asSlice((long) i * ks, ks), fd, MapFd.BPF_ANY);
                        }
                    }
                }
            };
        }
        if (!batchable(info.type()))
            return (keys, values, n) -> {
                for (int i = 0; i < n; i++)
                    to.update(keys.asSlice((long) i * ks, ks), values.asSlice((long) i * vs, vs), MapFd.BPF_ANY);
            };
        Sink batches = batchWriter(to, ks, vs);
        return info.type().lruListPerCpu(info.flags()) ? spread(batches, ks, vs) : batches;
    }

    /**
     * An LRU map made with BPF_F_NO_COMMON_LRU files each entry in the list of the CPU that writes it, and
     * each list holds max_entries / possible CPUs: written from one CPU, a full map keeps a share of its
     * entries and evicts the rest without an error. So entries go round-robin to every CPU this thread may
     * use, each CPU's share written from that CPU; a count after the copy catches what still got evicted.
     */
    private static Sink spread(Sink write, int ks, int vs) {
        List<Integer> cpus = Cpus.allowed();
        return new Sink() {
            private long next; // index of the next entry overall: keeps every CPU's share within one of the others

            @Override
            public void accept(MemorySegment keys, MemorySegment values, int n) {
                int k = cpus.size(), per = perCpu(n, k);
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment sk = arena.allocate((long) ks * per * k, 8), sv = arena.allocate((long) vs * per * k, 8);
                    int[] m = new int[k];
                    for (int i = 0; i < n; i++) {
                        int c = cpuOf(next + i, k);
                        long at = (long) c * per + m[c]++;
                        sk.asSlice(at * ks, ks).copyFrom(keys.asSlice((long) i * ks, ks));
                        sv.asSlice(at * vs, vs).copyFrom(values.asSlice((long) i * vs, vs));
                    }
                    next += n;
                    for (int c = 0; c < k; c++) {
                        if (m[c] == 0) continue;
                        int share = m[c];
                        MemorySegment ck = sk.asSlice((long) c * per * ks), cv = sv.asSlice((long) c * per * vs);
                        Cpus.runOn(cpus.get(c), () -> write.accept(ck, cv, share));
                    }
                }
            }
        };
    }

    /** Which of {@code k} CPUs writes the entry with this overall index: round-robin across batches. */
    static int cpuOf(long index, int k) { return (int) (index % k); }

    /** Room per CPU for one batch of {@code n} entries spread over {@code k} CPUs: no CPU gets more. */
    static int perCpu(int n, int k) { return n / k + 1; }

    private static Sink batchWriter(MapFd to, int ks, int vs) {
        return new Sink() {
            private final Arena arena = Arena.ofAuto();
            private final MemorySegment count = arena.allocate(ValueLayout.JAVA_INT);
            private boolean batches = true;

            @Override
            public void accept(MemorySegment keys, MemorySegment values, int n) {
                if (batches) {
                    count.set(ValueLayout.JAVA_INT, 0, n);
                    try {
                        to.updateBatch(keys, values, count, MapFd.BPF_ANY);
                        return;
                    } catch (BpfException e) {
                        if (e.errno() != Errno.EINVAL && e.errno() != Errno.ENOTSUPP && e.errno() != Errno.EOPNOTSUPP) throw e;
                        batches = false; // element by element from here (updates are idempotent)
                    }
                }
                for (int i = 0; i < n; i++)
                    to.update(keys.asSlice((long) i * ks, ks), values.asSlice((long) i * vs, vs), MapFd.BPF_ANY);
            }
        };
    }
}
