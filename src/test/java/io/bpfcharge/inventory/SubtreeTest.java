package io.bpfcharge.inventory;

import io.bpfcharge.bpf.MapInfo;
import io.bpfcharge.bpf.MapType;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** --cgroup PATH is a subtree: the cgroup and every cgroup below it, not a sibling whose name merely starts alike. */
class SubtreeTest {
    static final Memcg POD = new Memcg(1, "/kubepods/pod1", true, true), CTR = new Memcg(2, "/kubepods/pod1/ctr", true, true),
            SIBLING = new Memcg(3, "/kubepods/pod10", true, true);

    static MapRecord map(int id, long bytes, Memcg memcg) {
        MapInfo info = new MapInfo(id, MapType.HASH, "m" + id, 8, 64, 100, 0, 0, 0, 0, 0, 0, 0);
        return new MapRecord(info, bytes, memcg, List.of(), List.of(), List.of(), List.of());
    }

    static CgroupTotal total(Memcg m, long bytes) { return new CgroupTotal(m, bytes, 1, OptionalLong.empty(), OptionalLong.empty(), 0); }

    @Test
    void aCgroupIsWithinItselfItsAncestorsAndTheRoot() {
        assertTrue(CTR.within("/kubepods/pod1"));
        assertTrue(CTR.within("/kubepods/pod1/ctr"));
        assertTrue(CTR.within("/"));
        assertFalse(SIBLING.within("/kubepods/pod1"));
        assertFalse(POD.within("/kubepods/pod1/ctr"));
    }

    @Test
    void aSnapshotWithinASubtreeKeepsItsMapsAndCgroupsAndTotalsOverThem() {
        Snapshot all = new Snapshot(Instant.EPOCH, Duration.ZERO,
                List.of(map(1, 100, POD), map(2, 20, CTR), map(3, 7, SIBLING), map(4, 1, null)),
                List.of(total(POD, 100), total(CTR, 20), total(SIBLING, 7)), Map.of());
        Snapshot pod = all.within("/kubepods/pod1");
        assertEquals(List.of(1, 2), pod.maps().stream().map(MapRecord::id).toList());
        assertEquals(List.of("/kubepods/pod1", "/kubepods/pod1/ctr"), pod.cgroups().stream().map(t -> t.memcg().path()).toList());
        assertEquals(new Snapshot.Totals(120, 2, 0, 0, 0), pod.totals());
        assertEquals(List.of(2), all.within("/kubepods/pod1/ctr").maps().stream().map(MapRecord::id).toList());
    }
}
