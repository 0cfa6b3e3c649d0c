package io.bpfcharge.migrate;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.ByteBuffer;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Reconciler's overwrite rule, key by key: src's new value reaches dst unless dst's writers changed the key too. */
class ReconcilerTest {
    private static ByteBuffer value(String v) {
        return v.equals("-") ? null : ByteBuffer.wrap(v.getBytes());
    }

    /** last = src now, copied = the baseline, now = dst now; "-" is an absent key. */
    @ParameterizedTest(name = "src {0}, baseline {1}, dst {2}: {3}")
    @CsvSource({
            "a, a, a, SRC_UNCHANGED", "a, a, b, SRC_UNCHANGED", "-, -, b, SRC_UNCHANGED",
            "b, a, a, WRITE", "b, -, -, WRITE", "-, a, a, WRITE",
            "b, a, c, DST_CHANGED", "b, a, -, DST_CHANGED", "b, -, c, DST_CHANGED", "b, a, b, DST_CHANGED"})
    void overwriteDecisionTable(String last, String copied, String now, Reconciler.Overwrite expected) {
        assertEquals(expected, Reconciler.overwrites(value(last), value(copied), value(now)));
    }
}
