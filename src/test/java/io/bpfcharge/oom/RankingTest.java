package io.bpfcharge.oom;

import io.bpfcharge.cgroup.ContainerIdentity;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** How each policy's figure is formed from a cgroup's files, and where the victim changes. */
class RankingTest {
    static final long MB = 1 << 20, TOTAL = 10_000 * MB;

    static Leaf leaf(String path, long usage, long low, long min, int adj, int procs, long bpf, long surviving) {
        return new Leaf(path, path.hashCode(), ContainerIdentity.parse(path), usage, OptionalLong.of(low), OptionalLong.of(min),
                OptionalLong.empty(), Optional.of(false), adj, procs, bpf, surviving);
    }

    final Leaf pinner = leaf("/a/pinner", 100 * MB, 0, 0, 0, 1, 80 * MB, 80 * MB);
    final Leaf holder = leaf("/a/holder", 60 * MB, 0, 0, 0, 1, 40 * MB, 0);
    final Leaf empty = leaf("/a/empty", 500 * MB, 0, 0, 0, 0, 500 * MB, 500 * MB);

    @Test
    void theVictimChangesWhenItsBytesSurviveTheKill() {
        for (Policy p : Policy.values()) {
            Ranking r = Ranking.of(p, List.of(holder, pinner, empty), TOTAL);
            assertEquals("/a/pinner", r.victim().orElseThrow().leaf().path(), p.label());
            assertEquals("/a/holder", r.adjustedVictim().orElseThrow().leaf().path(), p.label());
            assertTrue(r.victimChanges());
            Ranking.Row e = r.rows().getLast();
            assertEquals("/a/empty", e.leaf().path(), "no process: never a candidate, listed last");
            assertEquals(0, e.rank());
            assertNull(e.figure());
        }
    }

    @Test
    void oomdTakesMemoryLowAndMinOff() {
        Leaf protectedOne = leaf("/a/protected", 100 * MB, 70 * MB, 20 * MB, 0, 1, 0, 0);
        Leaf plain = leaf("/a/plain", 50 * MB, 0, 0, 0, 1, 0, 0);
        Ranking r = Ranking.of(Policy.OOMD, List.of(protectedOne, plain), TOTAL);
        assertEquals(30 * MB, r.rows().stream().filter(x -> x.leaf() == protectedOne).findFirst().orElseThrow().figure());
        assertEquals("/a/plain", r.victim().orElseThrow().leaf().path());
        assertEquals(100 * MB, Ranking.of(Policy.SYSTEMD_OOMD, List.of(protectedOne), TOTAL).rows().getFirst().figure(),
                "systemd-oomd reads memory.current alone");
    }

    @Test
    void theKernelAddsOomScoreAdjAndNeverPicksMinus1000() {
        Leaf favoured = leaf("/a/favoured", 10 * MB, 0, 0, 500, 1, 0, 0);
        Leaf exempt = leaf("/a/exempt", 900 * MB, 0, 0, -1000, 1, 0, 0);
        Ranking r = Ranking.of(Policy.KERNEL, List.of(pinner, favoured, exempt), TOTAL);
        assertEquals(10 * MB + 500 * (TOTAL / 1000), r.rows().getFirst().figure());
        assertEquals("/a/favoured", r.victim().orElseThrow().leaf().path());
        assertFalse(r.victimChanges());
        assertEquals(0, r.rows().stream().filter(x -> x.leaf() == exempt).findFirst().orElseThrow().rank());
        assertEquals(pinner.usage(), Ranking.of(Policy.OOMD, List.of(pinner), TOTAL).rows().getFirst().figure(),
                "oomd does not read oom_score_adj");
    }

    @Test
    void noCandidateNoVictim() {
        Ranking r = Ranking.of(Policy.KERNEL, List.of(empty), TOTAL);
        assertTrue(r.victim().isEmpty());
        assertFalse(r.victimChanges());
    }
}
