package io.bpfcharge.migrate;

import io.bpfcharge.BpfchargeException.Exit;
import io.bpfcharge.bpf.MapInfo;
import io.bpfcharge.bpf.MapType;
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
    private static final MigrationRequest SUM = new MigrationRequest(7, TARGET, null, MigrationRequest.Merge.SUM, false);

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
        List<MapRecord> all = new java.util.ArrayList<>(List.of(others));
        all.add(m);
        Snapshot snap = new Snapshot(Instant.EPOCH, Duration.ZERO, all, List.of(), java.util.Map.of());
        return Plan.of(snap, m, TARGET, TARGET_ID, headroom, req);
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
        Plan p = Plan.of(snap, m, "/", 1, OptionalLong.empty(), MigrationRequest.of(7, "/"));
        refused(p, Exit.REFUSED, "root memory cgroup", "charged to no cgroup");
    }

    @Test
    void neitherPinnedNorInASlotIsRefused() {
        refused(plan(map(info(7, MapType.HASH, 64, 0), List.of(), List.of())), Exit.REFUSED, "neither pinned");
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
