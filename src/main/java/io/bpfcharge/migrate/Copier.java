package io.bpfcharge.migrate;

import io.bpfcharge.bpf.BpfException;
import io.bpfcharge.bpf.Cpus;
import io.bpfcharge.bpf.MapBatch;
import io.bpfcharge.bpf.MapFd;
import io.bpfcharge.bpf.MapInfo;
import io.bpfcharge.bpf.MapType;

import java.util.ArrayList;
import java.util.List;
import java.util.function.LongConsumer;
import java.util.function.Predicate;

/**
 * Reads and copies map contents by type family: batch syscalls for hash, LRU, per-CPU and array maps
 * (BPF_MAP_*_BATCH: one syscall per few thousand entries), per element for LPM tries and for kernels or
 * maps that refuse batches, and id-to-fd translation for maps of maps. Buffers are allocated once per copy.
 */
final class Copier {
    /** Entries per batch: large enough that syscall cost vanishes, small enough to stay in cache-sized buffers. */
    static final int BATCH = 4096;

    private Copier() {}

    /** Receives the entries read, a batch at a time; the batch is reused after it returns. */
    interface Sink {
        void accept(MapBatch batch);
    }

    static boolean batchable(MapType t) {
        return t.equals(MapType.HASH) || t.equals(MapType.PERCPU_HASH) || t.equals(MapType.LRU_HASH)
                || t.equals(MapType.LRU_PERCPU_HASH) || t.equals(MapType.ARRAY) || t.equals(MapType.PERCPU_ARRAY);
    }

    /** Copies every entry of {@code from} into {@code to}; each batch also goes to {@code also} (may be null). */
    static long copy(MapFd from, MapFd to, MapInfo info, Sink also, LongConsumer progress) {
        Sink write = writer(to, info);
        long[] total = {0};
        read(from, info, batch -> {
            write.accept(batch);
            if (also != null) also.accept(batch);
            total[0] += batch.size();
            progress.accept(total[0]);
            Crash.point("copy");
        });
        return total[0];
    }

    /** Reads every entry, in batches where the kernel allows it. Returns the number of entries read. */
    static long read(MapFd map, MapInfo info, Sink sink) {
        if (batchable(info.type())) {
            try {
                return drain(map::lookupBatch, info, sink);
            } catch (BpfException e) {
                if (!e.unsupported()) throw e;
                // e.g. maps with spin locks or timers: element by element below
            }
        }
        return drain(map::lookupElements, info, sink);
    }

    /** Fills one batch buffer with {@code next} until it says the map has no more, passing each on. */
    private static long drain(Predicate<MapBatch> next, MapInfo info, Sink sink) {
        try (MapBatch batch = MapBatch.of(info, BATCH)) {
            long total = 0;
            boolean more = true;
            while (more) {
                more = next.test(batch);
                if (batch.size() > 0) {
                    sink.accept(batch);
                    total += batch.size();
                }
            }
            return total;
        }
    }

    /** Writes batches into a map: one update-batch syscall, or per element (LPM tries, maps of maps). */
    static Sink writer(MapFd to, MapInfo info) {
        if (info.type().isMapOfMaps()) {
            // Reading a map of maps yields inner map ids; writing takes fds.
            return batch -> {
                for (int i = 0; i < batch.size(); i++) {
                    try (MapFd inner = MapFd.byId(batch.value(i).getInt(0))) {
                        to.setInnerMap(batch.key(i), inner);
                    }
                }
            };
        }
        if (!batchable(info.type())) return batch -> to.updateElements(batch, MapFd.BPF_ANY);
        Sink batches = batchWriter(to);
        return info.type().lruListPerCpu(info.flags()) ? spread(batches, info) : batches;
    }

    /**
     * An LRU map made with BPF_F_NO_COMMON_LRU files each entry in the list of the CPU that writes it, and
     * each list holds max_entries / possible CPUs: written from one CPU, a full map keeps a share of its
     * entries and evicts the rest without an error. So entries go round-robin to every CPU this thread may
     * use, each CPU's share written from that CPU; a count after the copy catches what still got evicted.
     */
    private static Sink spread(Sink write, MapInfo info) {
        List<Integer> cpus = Cpus.allowed();
        return new Sink() {
            private long next; // index of the next entry overall: keeps every CPU's share within one of the others

            @Override
            public void accept(MapBatch batch) {
                int n = batch.size(), k = cpus.size(), per = perCpu(n, k);
                List<MapBatch> shares = new ArrayList<>(k);
                try {
                    for (int c = 0; c < k; c++) shares.add(MapBatch.of(info, per));
                    for (int i = 0; i < n; i++) shares.get(cpuOf(next + i, k)).add(batch.key(i), batch.value(i));
                    next += n;
                    for (int c = 0; c < k; c++) {
                        MapBatch share = shares.get(c);
                        if (share.size() > 0) Cpus.runOn(cpus.get(c), () -> write.accept(share));
                    }
                } finally {
                    shares.forEach(MapBatch::close);
                }
            }
        };
    }

    /** Which of {@code k} CPUs writes the entry with this overall index: round-robin across batches. */
    static int cpuOf(long index, int k) { return (int) (index % k); }

    /** Room per CPU for one batch of {@code n} entries spread over {@code k} CPUs: no CPU gets more. */
    static int perCpu(int n, int k) { return n / k + 1; }

    private static Sink batchWriter(MapFd to) {
        return new Sink() {
            private boolean batches = true;

            @Override
            public void accept(MapBatch batch) {
                if (batches) {
                    try {
                        to.updateBatch(batch, MapFd.BPF_ANY);
                        return;
                    } catch (BpfException e) {
                        if (!e.unsupported()) throw e;
                        batches = false; // element by element from here (updates are idempotent)
                    }
                }
                to.updateElements(batch, MapFd.BPF_ANY);
            }
        };
    }
}
