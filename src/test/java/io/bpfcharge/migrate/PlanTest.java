package io.bpfcharge.migrate;

import io.bpfcharge.BpfchargeException.Exit;
import io.bpfcharge.bpf.MapInfo;
import io.bpfcharge.bpf.MapType;
import io.bpfcharge.inventory.CgroupTotal;
import io.bpfcharge.inventory.MapRecord;
import io.bpfcharge.inventory.Memcg;
import io.bpfcharge.inventory.Snapshot;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Plan is decided from a snapshot and a request alone: hand-built snapshots, no kernel. */
class PlanTest {
    private static final Memcg OLD = new Memcg(100, "/pod/old", true, false);
    private static final String TARGET = "/pod/new";
    private static final long TARGET_ID = 200;
    private static final MigrationRequest REQ = MigrationRequest.of(7, TARGET);
    private static final MigrationRequest SUM = new MigrationRequest(7, TARGET, null, MigrationRequest.Merge.SUM, false, null);

    private static MapInfo info(int id, MapType type, int valueSize, int flags) {
        return new MapInfo(id, type, "m" + id, 8, valueSize, 1024, flags, 0, 0, 0, 0, 0, 0);
    }

    private static MapRecord map(MapInfo info, List<String> pins, List<MapRecord.Slot> outer) {
        return new MapRecord(info, 1 << 20, OLD, pins, outer, List.of(), List.of());
    }

    private static MapRecord pinned(int id, MapType type) {
        return map(info(id, type, 64, 0), List.of("/sys/fs/bpf/app/m" + id), List.of());
    }

    private static Plan plan(MapRecord m, OptionalLong headroom, MigrationRequest req, MapRecord... others) {
        return plan(m, new Plan.Room(headroom, OptionalLong.empty()), List.of(), req, others);
    }

    private static Plan plan(MapRecord m, Plan.Room room, List<CgroupTotal> cgroups, MigrationRequest req, MapRecord... others) {
        List<MapRecord> all = new java.util.ArrayList<>(List.of(others));
        all.add(m);
        Snapshot snap = new Snapshot(Instant.EPOCH, Duration.ZERO, all, cgroups, java.util.Map.of());
        return Plan.of(snap, m, TARGET, TARGET_ID, room, req);
    }

    private static Plan plan(MapRecord m, MapRecord... others) { return plan(m, OptionalLong.empty(), REQ, others); }

    private static Plan.Refused refused(Plan p, Exit exit, String... words) {
        Plan.Refused r = assertInstanceOf(Plan.Refused.class, p);
        assertEquals(exit, r.exit());
        for (String w : words) assertTrue(r.message().contains(w), () -> "'" + w + "' missing in: " + r.message());
        return r;
    }

    @Test
    void alreadyInTargetIsNoopEvenWhenHeldOrFull() {
        MapRecord m = new MapRecord(info(7, MapType.HASH, 64, 0), 1 << 20, new Memcg(TARGET_ID, TARGET, true, true),
                List.of(), List.of(), List.of(new MapRecord.ProcessHolder(42, "app", null)), List.of());
        Plan.Noop n = assertInstanceOf(Plan.Noop.class, plan(m, OptionalLong.of(0), REQ));
        assertEquals(TARGET, n.target());
        assertTrue(n.message().contains("already charged to " + TARGET));
    }

    @Test
    void standalonePinnedMapReplacesItsPins() {
        MapRecord m = pinned(7, MapType.PERCPU_HASH);
        Plan.Move mv = assertInstanceOf(Plan.Move.class, plan(m, OptionalLong.of(2 << 20), REQ));
        assertEquals(Plan.Kind.STANDALONE, mv.kind());
        assertEquals(List.of("/sys/fs/bpf/app/m7"), mv.pins());
        assertEquals(List.of(), mv.slots());
        assertEquals("/pod/old", mv.source());
        assertEquals(TARGET_ID, mv.targetId());
        assertEquals(0, mv.templateId());
    }

    @Test
    void mapInASlotIsInnerEvenWhenAlsoPinned() {
        var slots = List.of(new MapRecord.Slot(3, "00000000"), new MapRecord.Slot(4, "01000000"));
        MapRecord m = map(info(7, MapType.HASH, 64, 0), List.of("/sys/fs/bpf/app/inner"), slots);
        Plan.Move mv = assertInstanceOf(Plan.Move.class, plan(m));
        assertEquals(Plan.Kind.INNER, mv.kind());
        assertEquals(slots, mv.slots());
        assertEquals(List.of("/sys/fs/bpf/app/inner"), mv.pins());
    }

    @Test
    void uncharged() {
        MapRecord m = new MapRecord(info(7, MapType.ARRAY, 8, 0), 4096, null, List.of("/sys/fs/bpf/a"), List.of(),
                List.of(), List.of());
        assertEquals("/", assertInstanceOf(Plan.Move.class, plan(m)).source());
    }

    @Test
    void unsupportedTypesAreRefusedWithTheReason() {
        refused(plan(pinned(7, MapType.byName("ringbuf"))), Exit.REFUSED, "ringbuf", "kernel objects or a stream");
        refused(plan(pinned(7, MapType.byName("prog_array"))), Exit.REFUSED, "prog_array");
        refused(plan(pinned(7, MapType.BLOOM_FILTER)), Exit.REFUSED, "only hash, array");
    }

    @Test
    void readOnlyOrWriteOnlyForUserSpaceIsRefused() {
        for (int flag : new int[]{Plan.BPF_F_RDONLY, Plan.BPF_F_WRONLY})
            refused(plan(map(info(7, MapType.HASH, 64, flag), List.of("/sys/fs/bpf/a"), List.of())), Exit.REFUSED,
                    "BPF_F_RDONLY/BPF_F_WRONLY");
    }

    @Test
    void heldByAProcessOrProgramIsRefusedNamingThem() {
        MapInfo i = info(7, MapType.HASH, 64, 0);
        // A pid above the kernel's PID_MAX_LIMIT (2^22): describe() reads who runs a holder the scan did not read,
        // and a real pid would name this machine's process.
        MapRecord byProc = new MapRecord(i, 1, OLD, List.of("/sys/fs/bpf/a"), List.of(),
                List.of(new MapRecord.ProcessHolder(4_194_305, "agent", null)), List.of());
        // A process is told what it can do: reach the map through a slot, or have it recharged before it opens it.
        Plan.Refused p = refused(plan(byProc), Exit.REFUSED, "process 4194305 (agent)", "held open", "map-of-maps slot",
                "before the program starts", "createRuntime");
        assertTrue(!p.message().contains("reloading") && !p.message().contains("programs"), p.message());
        MapRecord byProg = new MapRecord(i, 1, OLD, List.of(), List.of(new MapRecord.Slot(3, "00000000")), List.of(),
                List.of(new MapRecord.ProgramHolder(9, "xdp_main")));
        Plan.Refused r = refused(plan(byProg), Exit.REFUSED, "program 9 (xdp_main)", "array_of_maps/hash_of_maps");
        assertTrue(!r.message().contains("process"), r.message());
    }

    @Test
    void theRootMemcgIsNoTarget() {
        MapRecord m = pinned(7, MapType.HASH);
        Snapshot snap = new Snapshot(Instant.EPOCH, Duration.ZERO, List.of(m), List.of(), java.util.Map.of());
        Plan p = Plan.of(snap, m, "/", 1, Plan.Room.UNLIMITED, MigrationRequest.of(7, "/"));
        refused(p, Exit.REFUSED, "root memory cgroup", "charged to no cgroup");
    }

    @Test
    void neitherPinnedNorInASlotIsRefused() {
        refused(plan(map(info(7, MapType.HASH, 64, 0), List.of(), List.of())), Exit.REFUSED, "neither pinned");
    }

    /** A limit of {@code limit} bytes with room enough for any map: only the reserve can refuse. */
    private static Plan.Room limit(long limit) { return new Plan.Room(OptionalLong.of(limit), OptionalLong.of(limit)); }

    private static MigrationRequest reserve(int percent) {
        return new MigrationRequest(7, TARGET, null, null, false, new io.bpfcharge.oom.Reserve(percent));
    }

    @Test
    void aPinnedMapThatLeavesLessThanTheReserveOfTheLimitIsRefused() {
        MapRecord m = pinned(7, MapType.HASH); // 1 MiB
        Plan.Refused r = refused(plan(m, limit(1_300_000), List.of(), REQ), Exit.NO_ROOM, "limit of 1300000 bytes",
                "at most 251424 bytes (19% of the limit)", "25% reserve", "over and over", "--reserve");
        assertEquals(1, r.message().lines().count());
        assertInstanceOf(Plan.Move.class, plan(m, limit(1_400_000), List.of(), REQ), "a kill frees 25.1%");
        assertInstanceOf(Plan.Move.class, plan(m, limit(1_300_000), List.of(), reserve(0)), "--reserve 0: no check");
        assertInstanceOf(Plan.Move.class, plan(m, new Plan.Room(OptionalLong.of(1 << 21), OptionalLong.empty()), List.of(), REQ),
                "an ancestor's limit is not the target's: its kill frees its other children too");
    }

    @Test
    void theReserveCountsWhatAlreadySurvivesAKillInTheTarget() {
        MapRecord m = pinned(7, MapType.HASH);
        CgroupTotal target = new CgroupTotal(new Memcg(TARGET_ID, TARGET, true, false), 1 << 20, 1, OptionalLong.empty(),
                OptionalLong.empty(), 0); // 1 MiB already pinned there, none freed by a kill
        refused(plan(m, limit(2_500_000), List.of(target), REQ), Exit.NO_ROOM, "2097152 of them", "at most 402848 bytes (16%");
        assertInstanceOf(Plan.Move.class, plan(m, limit(2_500_000), List.of(), REQ), "alone it leaves 58%");
        refused(plan(m, limit(2_500_000), List.of(), reserve(60)), Exit.NO_ROOM, "60% reserve");
    }

    @Test
    void anInnerMapCountsAsSurvivingOnlyInAPinnedOuterMap() {
        List<MapRecord.Slot> slot = List.of(new MapRecord.Slot(9, "00000000"));
        MapRecord inner = map(info(7, MapType.HASH, 64, 0), List.of(), slot);
        MapRecord heldOuter = map(info(9, MapType.HASH_OF_MAPS, 4, 0), List.of(), List.of());
        MapRecord pinnedOuter = pinned(9, MapType.HASH_OF_MAPS);
        assertInstanceOf(Plan.Move.class, plan(inner, limit(1_100_000), List.of(), REQ, heldOuter),
                "its outer map may die with the container");
        refused(plan(inner, limit(1_100_000), List.of(), REQ, pinnedOuter), Exit.NO_ROOM, "over and over");
    }

    @Test
    void noRoomWhenHeadroomIsBelowTheMapsBytes() {
        MapRecord m = pinned(7, MapType.HASH);
        refused(plan(m, OptionalLong.of(m.bytes() - 1), REQ), Exit.NO_ROOM, "raise the limit", Long.toString(m.bytes()));
        assertInstanceOf(Plan.Move.class, plan(m, OptionalLong.of(m.bytes()), REQ));
    }

    @Test
    void mapOfMapsTakesAnInnerMapAsTemplateOrIsRefusedWhenEmpty() {
        MapRecord outer = pinned(7, MapType.HASH_OF_MAPS);
        refused(plan(outer), Exit.REFUSED, "empty", "inner map template");
        MapRecord inner = map(info(11, MapType.HASH, 64, 0), List.of(), List.of(new MapRecord.Slot(7, "00000000")));
        MapRecord elsewhere = map(info(12, MapType.HASH, 64, 0), List.of(), List.of(new MapRecord.Slot(8, "00000000")));
        Plan.Move mv = assertInstanceOf(Plan.Move.class, plan(outer, elsewhere, inner));
        assertEquals(11, mv.templateId());
        assertEquals(Plan.Kind.STANDALONE, mv.kind());
    }

    @Test
    void mergeSumNeedsU64Counters() {
        var slot = List.of(new MapRecord.Slot(3, "00000000"));
        refused(plan(map(info(7, MapType.HASH, 12, 0), List.of(), slot), OptionalLong.empty(), SUM), Exit.REFUSED,
                "--merge sum", "12-byte values");
        refused(plan(map(info(7, MapType.LPM_TRIE, 8, 0), List.of(), slot), OptionalLong.empty(), SUM), Exit.REFUSED,
                "--merge sum");
        assertInstanceOf(Plan.Move.class, plan(map(info(7, MapType.PERCPU_HASH, 16, 0), List.of(), slot),
                OptionalLong.empty(), SUM));
        // merge_sum's context holds a 512-byte key and 512 words.
        refused(plan(map(info(7, MapType.HASH, 4104, 0), List.of(), slot), OptionalLong.empty(), SUM), Exit.REFUSED,
                "--merge sum", "4104-byte values");
        assertInstanceOf(Plan.Move.class, plan(map(info(7, MapType.HASH, 4096, 0), List.of(), slot),
                OptionalLong.empty(), SUM));
        // A standalone map is written through its pin while copied: summed too, so the same rule holds.
        refused(plan(map(info(7, MapType.HASH, 12, 0), List.of("/sys/fs/bpf/a"), List.of()), OptionalLong.empty(), SUM),
                Exit.REFUSED, "--merge sum");
        assertInstanceOf(Plan.Move.class, plan(map(info(7, MapType.HASH, 16, 0), List.of("/sys/fs/bpf/a"), List.of()),
                OptionalLong.empty(), SUM));
    }
}
