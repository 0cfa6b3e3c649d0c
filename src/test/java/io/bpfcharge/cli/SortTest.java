package io.bpfcharge.cli;

import io.bpfcharge.bpf.MapInfo;
import io.bpfcharge.bpf.MapType;
import io.bpfcharge.inventory.CgroupTotal;
import io.bpfcharge.inventory.MapRecord;
import io.bpfcharge.inventory.Memcg;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** --sort: each order on fake records, and a wrong value named with the choices. */
class SortTest {
    static final Memcg A = new Memcg(1, "/a", true, true), B = new Memcg(2, "/b", true, true);

    static MapRecord map(int id, String name, long bytes, Memcg memcg) {
        MapInfo info = new MapInfo(id, MapType.HASH, name, 8, 64, 100, 0, 0, 0, 0, 0, 0, 0);
        return new MapRecord(info, bytes, memcg, List.of(), List.of(), List.of(), List.of());
    }

    // In id order, as a scan lists them.
    final List<MapRecord> maps = List.of(map(3, "zeta", 100, B), map(5, "alpha", 900, null), map(7, "mid", 900, A), map(9, "alpha", 5, A));

    List<Integer> ids(Sort.Maps sort) { return maps.stream().sorted(sort.order).map(MapRecord::id).toList(); }

    @Test
    void mapsSortByIdBytesNameOrCgroupWithTiesByIdAndUnchargedLast() {
        assertEquals(List.of(3, 5, 7, 9), ids(Sort.Maps.ID));
        assertEquals(List.of(5, 7, 3, 9), ids(Sort.Maps.BYTES));
        assertEquals(List.of(5, 9, 7, 3), ids(Sort.Maps.NAME));
        assertEquals(List.of(7, 9, 3, 5), ids(Sort.Maps.CGROUP));
    }

    @Test
    void cgroupsSortByBytesLargestFirstOrByPath() {
        List<CgroupTotal> totals = List.of(total(A, 10), total(new Memcg(3, "/c", true, true), 30), total(B, 30));
        assertEquals(List.of("/b", "/c", "/a"), totals.stream().sorted(Sort.Cgroups.BYTES.order).map(t -> t.memcg().path()).toList());
        assertEquals(List.of("/a", "/b", "/c"), totals.stream().sorted(Sort.Cgroups.CGROUP.order).map(t -> t.memcg().path()).toList());
    }

    static CgroupTotal total(Memcg m, long bytes) { return new CgroupTotal(m, bytes, 1, OptionalLong.empty(), OptionalLong.empty(), 0); }

    @Test
    void anUnknownOrderIsAUsageErrorThatListsTheChoices() {
        for (String[] args : new String[][]{{"maps", "--sort", "size"}, {"cgroups", "--sort", "name"}}) {
            StringWriter out = new StringWriter(), err = new StringWriter();
            assertEquals(2, Main.run(new PrintWriter(out), new PrintWriter(err), args));
            assertEquals(1, err.toString().strip().lines().count(), err.toString());
            String choices = args[0].equals("maps") ? "expected one of id, bytes, name, cgroup, not size" : "expected one of bytes, cgroup, not name";
            assertTrue(err.toString().contains(choices), err.toString());
        }
    }
}
