package io.bpfcharge.migrate;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** How a copy spreads a BPF_F_NO_COMMON_LRU map's entries over CPUs, batch after batch. */
class CopierTest {
    @Test
    void everyCpusShareOfABatchFitsItsRoomAndSharesStayWithinOneAcrossBatches() {
        for (int k = 1; k <= 8; k++) {
            long next = 0;
            long[] total = new long[k];
            for (int n : new int[]{1, 7, Copier.BATCH, Copier.BATCH - 1, 3, Copier.BATCH * 4, 5}) {
                int[] share = new int[k];
                for (int i = 0; i < n; i++) share[Copier.cpuOf(next + i, k)]++;
                int room = Copier.perCpu(n, k);
                for (int c = 0; c < k; c++) {
                    assertTrue(share[c] <= room, "cpu " + c + " of " + k + " gets " + share[c] + " of " + n + ", room " + room);
                    total[c] += share[c];
                }
                next += n;
                long min = Long.MAX_VALUE, max = 0;
                for (long t : total) {
                    min = Math.min(min, t);
                    max = Math.max(max, t);
                }
                assertTrue(max - min <= 1, "shares after " + next + " entries on " + k + " CPUs: " + min + ".." + max);
            }
            assertEquals(next, java.util.Arrays.stream(total).sum());
        }
    }
}
