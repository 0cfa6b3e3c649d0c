package io.bpfcharge.inventory;

import io.bpfcharge.bpf.FdInfo;
import io.bpfcharge.bpf.MapInfo;
import io.bpfcharge.bpf.MapType;
import io.bpfcharge.bpf.ReferenceIterators.FileRef;
import io.bpfcharge.bpf.ReferenceIterators.Kind;
import io.bpfcharge.bpf.ReferenceIterators.Walk;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The reference-graph rules on hand-made walks: what the kernel reports is faked here, the rules are not
 * (KillSplitIT checks the same rules against the real kernel and a real kill).
 */
class SurvivalTest {
    static final Memcg APP = new Memcg(10, "/pod/app", true, true), GONE = new Memcg(11, "/pod/app", false, false);
    /** pid -> cgroup: 1 and 2 in the app, 3 in a child of it, 9 elsewhere. */
    static final Map<Long, String> CGROUP_OF = Map.of(1L, "/pod/app", 2L, "/pod/app", 3L, "/pod/app/sidecar", 9L, "/system.slice/agent.service");

    static MapRecord map(int id, Memcg memcg, List<String> pins, List<MapRecord.Slot> outer, List<MapRecord.ProgramHolder> progs) {
        return new MapRecord(new MapInfo(id, MapType.HASH, "m" + id, 8, 8, 10, 0, 0, 0, 0, 0, 0, 0), 4096, memcg, pins, outer,
                List.of(), progs);
    }

    static FileRef mapFile(long pid, int id, long file, long refcnt) { return new FileRef(pid, Kind.MAP, id, 0, file, refcnt, 0); }

    static Fate fate(MapRecord m, List<MapRecord> all, List<FileRef> files, Map<Integer, Long> refcnts, List<FdInfo.ProgramOrLink> pinned) {
        return Survival.of(all, new Walk(files, refcnts), pinned, CGROUP_OF::get).get(m.id());
    }

    static final List<MapRecord.ProgramHolder> PROG = List.of(new MapRecord.ProgramHolder(50, "p"));

    @Test
    void aFileSharedByForksIsOneReferenceAndAChildCgroupIsInside() {
        MapRecord m = map(1, APP, List.of(), List.of(), List.of());
        // pids 1 and 3 share one open file (fork): one reference; pid 3 lives in a child cgroup.
        assertEquals(Fate.FREED, fate(m, List.of(m), List.of(mapFile(1, 1, 0xA, 1), mapFile(3, 1, 0xA, 1)), Map.of(1, 1L), List.of()));
        assertEquals(Fate.HELD_OUTSIDE, fate(m, List.of(m), List.of(mapFile(1, 1, 0xA, 2), mapFile(9, 1, 0xB, 2)), Map.of(1, 2L), List.of()));
        assertEquals(Fate.UNSEEN_REFERENCE, fate(m, List.of(m), List.of(mapFile(1, 1, 0xA, 2)), Map.of(1, 2L), List.of()),
                "two references, one file: something else holds it");
        MapRecord pinned = map(1, APP, List.of("/sys/fs/bpf/m"), List.of(), List.of());
        assertEquals(Fate.PINNED, fate(pinned, List.of(pinned), List.of(), Map.of(1, 1L), List.of()));
    }

    @Test
    void aRemovedCgroupHasNoTaskToKill() {
        MapRecord m = map(1, GONE, List.of(), List.of(), List.of());
        // Its path names a live cgroup of the same name (a restarted container): that one's tasks are not the removed one's.
        assertEquals(Fate.HELD_OUTSIDE, fate(m, List.of(m), List.of(mapFile(1, 1, 0xA, 1)), Map.of(1, 1L), List.of()));
    }

    @Test
    void programsLiveByTheirFdsLinksAndPins() {
        MapRecord m = map(1, APP, List.of(), List.of(), PROG);
        List<FileRef> mapFd = List.of(mapFile(1, 1, 0xA, 2));
        Map<Integer, Long> refs = Map.of(1, 2L); // the task's fd and the program
        FileRef progFd = new FileRef(2, Kind.PROG, 50, 0, 0xC, 1, 0);
        assertEquals(Fate.FREED, fate(m, List.of(m), List.of(mapFile(1, 1, 0xA, 2), progFd), refs, List.of()));
        FileRef linkFd = new FileRef(2, Kind.LINK, 70, 50, 0xD, 1, 1);
        assertEquals(Fate.FREED, fate(m, List.of(m), List.of(mapFile(1, 1, 0xA, 2), linkFd), refs, List.of()), "held by its link only");
        assertEquals(Fate.PROGRAM_KEPT, fate(m, List.of(m), List.of(mapFile(1, 1, 0xA, 2), new FileRef(2, Kind.LINK, 70, 50, 0xD, 2, 1)),
                refs, List.of()), "the link has a reference no fd explains: pinned, or held unseen");
        assertEquals(Fate.PROGRAM_KEPT, fate(m, List.of(m), List.of(mapFile(1, 1, 0xA, 2), new FileRef(2, Kind.PROG, 50, 0, 0xC, 2, 0)),
                refs, List.of()), "attached without a link (tc, XDP by netlink): a reference no fd explains");
        assertEquals(Fate.PROGRAM_KEPT, fate(m, List.of(m), mapFd, refs, List.of()), "a program seen through no fd: kept by something unseen");
        assertEquals(Fate.PROGRAM_KEPT, fate(m, List.of(m), List.of(mapFile(1, 1, 0xA, 2), progFd), refs,
                List.of(new FdInfo.ProgramOrLink(Kind.LINK, 71, 50))), "a pinned link keeps its program");
        assertEquals(Fate.PROGRAM_KEPT, fate(m, List.of(m), List.of(mapFile(1, 1, 0xA, 2), new FileRef(9, Kind.PROG, 50, 0, 0xC, 1, 0)),
                refs, List.of()), "its fd is held outside");
    }

    @Test
    void anInnerMapLivesAsLongAsItsOuterMap() {
        MapRecord outer = map(2, APP, List.of(), List.of(), List.of());
        MapRecord inner = map(1, APP, List.of(), List.of(new MapRecord.Slot(2, "00000000")), List.of());
        Map<Integer, Long> refs = Map.of(1, 1L, 2, 1L); // inner: the slot; outer: the task's fd
        assertEquals(Fate.FREED, fate(inner, List.of(inner, outer), List.of(mapFile(1, 2, 0xA, 1)), refs, List.of()));
        assertEquals(Fate.OUTER_KEPT, fate(inner, List.of(inner, outer), List.of(mapFile(9, 2, 0xA, 1)), refs, List.of()));
        assertEquals(Fate.UNSEEN_REFERENCE, fate(inner, List.of(inner), List.of(), refs, List.of()), "a slot of a map the scan did not see");
    }
}
