package io.bpfcharge.migrate;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The baseline file: written batch by batch as the copy goes, then looked up by key, and what was never looked up. */
class BaselineTest {
    private static final int KS = 12, VS = 8;

    private static MemorySegment key(Arena a, int i) {
        MemorySegment k = a.allocate(KS, 8);
        k.set(ValueLayout.JAVA_INT, 0, i);
        k.set(ValueLayout.JAVA_INT, 8, i * 31); // keys differ in more than one word
        return k;
    }

    @Test
    void everyKeyWrittenIsFoundWithItsValueOthersAreNotAndUnlookedKeysAreListed(@TempDir Path dir) {
        Path file = dir.resolve("b.bin");
        int n = 10_000;
        try (Arena a = Arena.ofConfined()) {
            try (Baseline.Writer w = new Baseline.Writer(file, KS, VS)) {
                for (int from = 0; from < n; from += 3000) { // batches of 3000, the last one short
                    int count = Math.min(3000, n - from);
                    MemorySegment keys = a.allocate((long) KS * count, 8), values = a.allocate((long) VS * count, 8);
                    for (int i = 0; i < count; i++) {
                        keys.asSlice((long) i * KS, KS).copyFrom(key(a, from + i));
                        values.setAtIndex(ValueLayout.JAVA_LONG, i, (from + i) * 7L);
                    }
                    w.accept(keys, values, count);
                }
                w.finish();
            }
            try (Baseline b = Baseline.open(file)) {
                assertEquals(n, b.count());
                for (int i = 0; i < n; i++) {
                    if (i % 10 == 0) continue; // these are the keys the old map dropped
                    int r = b.find(key(a, i));
                    assertEquals(key(a, i).mismatch(b.key(r)), -1L);
                    assertEquals(i * 7L, b.value(r).get(ValueLayout.JAVA_LONG_UNALIGNED, 0)); // records are packed
                }
                assertEquals(-1, b.find(key(a, n + 1)));
                assertEquals(-1, b.find(key(a, -5)));
                List<Integer> unseen = b.unseen().mapToObj(r -> b.key(r).get(ValueLayout.JAVA_INT_UNALIGNED, 0)).sorted().toList();
                assertEquals(n / 10, unseen.size());
                for (int i = 0; i < unseen.size(); i++) assertEquals(i * 10, unseen.get(i));
            }
        }
    }

    @Test
    void anEmptyBaselineFindsNothing() {
        try (Arena a = Arena.ofConfined(); Baseline b = Baseline.empty(KS, VS)) {
            assertEquals(0, b.count());
            assertEquals(-1, b.find(key(a, 1)));
            assertEquals(0, b.unseen().count());
        }
    }
}
