package io.bpfcharge.oom;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static io.bpfcharge.oom.RankingTest.MB;
import static io.bpfcharge.oom.RankingTest.TOTAL;
import static io.bpfcharge.oom.RankingTest.leaf;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Which leaves serve --oomd-avoid marks: exactly those oomd ranks above the net victim. */
class OomdMarksTest {
    final Leaf pinner = leaf("/a/pinner", 130 * MB, 0, 0, 0, 1, 128 * MB, 128 * MB);
    final Leaf restarted = leaf("/a/restarted", 82 * MB, 0, 0, 0, 1, 80 * MB, 80 * MB);
    final Leaf holder = leaf("/a/holder", 50 * MB, 0, 0, 0, 1, 40 * MB, 0);
    final Leaf small = leaf("/a/small", 5 * MB, 0, 0, 0, 1, 0, 0);
    final Leaf old = leaf("/a/old", 16 * MB, 0, 0, 0, 0, 16 * MB, 16 * MB);

    private static Set<String> avoid(Leaf... leaves) {
        return OomdMarks.toAvoid(Ranking.of(Policy.OOMD, List.of(leaves), TOTAL));
    }

    @Test
    void everyLeafRankedAboveTheNetVictimAndNoOther() {
        assertEquals(Set.of("/a/pinner", "/a/restarted"), avoid(pinner, restarted, holder, small, old));
    }

    @Test
    void noneWhenOomdAlreadyPicksTheNetVictim() {
        assertEquals(Set.of(), avoid(holder, small, old));
    }

    @Test
    void noneWithoutACandidate() {
        assertEquals(Set.of(), avoid(old));
        assertEquals(Set.of(), avoid());
    }

    @Test
    void protectionCountsAsOomdCountsIt() {
        // memory.low takes the pinner below the holder by oomd's own figure: nothing to mark.
        Leaf lowPinner = leaf("/a/pinner", 130 * MB, 100 * MB, 0, 0, 1, 128 * MB, 128 * MB);
        assertEquals(Set.of(), avoid(lowPinner, holder));
    }
}
