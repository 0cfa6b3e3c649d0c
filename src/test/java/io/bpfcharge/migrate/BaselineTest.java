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

    @Test
    void anEmptyBaselineFindsNothing() {
        try (Baseline b = Baseline.empty(KS, VS)) {
            assertEquals(0, b.count());
            assertEquals(-1, b.find(key(1)));
            assertEquals(0, b.unseen().count());
        }
    }
}
