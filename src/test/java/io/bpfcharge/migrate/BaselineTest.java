package io.bpfcharge.migrate;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.bpfcharge.bpf.MapBatch;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The baseline file: written batch by batch as the copy goes, then looked up by key, and what was never looked up. */
class BaselineTest {
    private static final int KS = 12, VS = 8;

    private static ByteBuffer key(int i) {
        ByteBuffer k = ByteBuffer.allocate(KS).order(ByteOrder.nativeOrder());
        k.putInt(0, i);
        k.putInt(8, i * 31); // keys differ in more than one word
        return k;
    }

    private static ByteBuffer value(long v) {
        return ByteBuffer.allocate(VS).order(ByteOrder.nativeOrder()).putLong(0, v);
    }

    @Test
    void everyKeyWrittenIsFoundWithItsValueOthersAreNotAndUnlookedKeysAreListed(@TempDir Path dir) {
        Path file = dir.resolve("b.bin");
        int n = 10_000;
        try (Baseline.Writer w = new Baseline.Writer(file, KS, VS); MapBatch batch = new MapBatch(KS, VS, 3000)) {
            for (int from = 0; from < n; from += 3000) { // batches of 3000, the last one short
                batch.clear();
                for (int i = from; i < Math.min(from + 3000, n); i++) batch.add(key(i), value(i * 7L));
                w.accept(batch);
            }
            w.finish();
        }
        try (Baseline b = Baseline.open(file)) {
            assertEquals(n, b.count());
            for (int i = 0; i < n; i++) {
                if (i % 10 == 0) continue; // these are the keys the old map dropped
                int r = b.find(key(i));
                assertEquals(-1, key(i).mismatch(b.key(r)));
                assertEquals(i * 7L, b.value(r).getLong(0)); // records are packed
                assertTrue(b.holds(r, value(i * 7L)));
                assertFalse(b.holds(r, value(i * 7L + 1)));
            }
            assertEquals(-1, b.find(key(n + 1)));
            assertEquals(-1, b.find(key(-5)));
            List<Integer> unseen = b.unseen().mapToObj(r -> b.key(r).getInt(0)).sorted().toList();
            assertEquals(n / 10, unseen.size());
            for (int i = 0; i < unseen.size(); i++) assertEquals(i * 10, unseen.get(i));
        }
    }

    /**
     * Keys asked in another order than written (a map whose buckets changed since the copy), across windows, and
     * an array's copy (u32 keys 0..n-1, found without an index).
     */
    @Test
    void keysOutOfOrderAndDenseArrayKeysAreFoundWithTheirValues(@TempDir Path dir) {
        int n = 20_000;
        Path hash = dir.resolve("h.bin"), array = dir.resolve("a.bin");
        write(hash, KS, n, BaselineTest::key);
        write(array, Integer.BYTES, n, i -> ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(0, i));
        java.util.Random random = new java.util.Random(7);
        try (Baseline h = Baseline.open(hash); Baseline a = Baseline.open(array)) {
            for (int k = 0; k < 3 * n; k++) {
                int i = k < n ? n - 1 - k : random.nextInt(n); // backwards, then at random
                int r = h.find(key(i));
                assertEquals(i * 7L, h.value(r).getLong(0));
                assertEquals(-1, key(i).mismatch(h.key(r)));
                ByteBuffer ak = ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(0, i);
                int ar = a.find(ak);
                assertEquals(i, ar);
                assertTrue(a.holds(ar, value(i * 7L)));
            }
            ByteBuffer outside = ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(0, n);
            assertEquals(-1, a.find(outside));
            assertEquals(0, h.unseen().count());
        }
    }

    private static void write(Path file, int ks, int n, java.util.function.IntFunction<ByteBuffer> key) {
        try (Baseline.Writer w = new Baseline.Writer(file, ks, VS); MapBatch batch = new MapBatch(ks, VS, 4096)) {
            for (int from = 0; from < n; from += 4096) {
                batch.clear();
                for (int i = from; i < Math.min(from + 4096, n); i++) batch.add(key.apply(i), value(i * 7L));
                w.accept(batch);
            }
            w.finish();
        }
    }

    @Test
    void anEmptyBaselineFindsNothing() {
        try (Baseline b = Baseline.empty(KS, VS)) {
            assertEquals(0, b.count());
            assertEquals(-1, b.find(key(1)));
            assertEquals(0, b.unseen().count());
        }
    }
}
