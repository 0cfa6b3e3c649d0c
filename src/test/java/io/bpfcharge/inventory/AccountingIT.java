package io.bpfcharge.inventory;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bpfcharge.bpf.BpfException;
import io.bpfcharge.bpf.BpfFd;
import io.bpfcharge.bpf.BpfObject;
import io.bpfcharge.bpf.FdInfo;
import io.bpfcharge.bpf.MapFd;
import io.bpfcharge.bpf.MapInfo;
import io.bpfcharge.testing.Await;
import io.bpfcharge.testing.Cli;
import io.bpfcharge.testing.HostOnly;
import io.bpfcharge.testing.KernelRelease;
import io.bpfcharge.testing.KernelTest;
import io.bpfcharge.testing.MapMaker;
import io.bpfcharge.testing.TestCgroups;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.util.List;

import static io.bpfcharge.testing.MapMaker.spec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The accounting core against the real kernel: maps made by processes placed in fresh memcgs,
 * read back through the iterator, fdinfo, bpffs and the cgroup files.
 */
@KernelTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AccountingIT {
    private static final int BIG = 200_000;

    private TestCgroups cg;
    private Inventory inventory;
    private String hashCg, mixCg, mimCg, heldCg;
    private long hashUsageBefore;
    private MapMaker.Maps hash, mix, mim, held;

    @BeforeAll
    void makeMaps() throws Exception {
        cg = new TestCgroups();
        inventory = new Inventory(cg.hierarchy());
        hashCg = cg.child("hash");
        mixCg = cg.child("mix");
        mimCg = cg.child("mim");
        heldCg = cg.child("held");
        hashUsageBefore = cg.usage(hashCg);
        hash = MapMaker.run(cg, hashCg, false, spec("hash", 8, 64, BIG, "acct_hash").pin(cg.pin("hash")));
        mix = MapMaker.run(cg, mixCg, false,
                spec("percpu_hash", 8, 16, 1000, "acct_pcpu").pin(cg.pin("pcpu")),
                spec("array", 4, 128, 4096, "acct_array").pin(cg.pin("array")),
                spec("lru_hash", 8, 8, 2048, "acct_lru").pin(cg.pin("lru")));
        mim = MapMaker.run(cg, mimCg, false,
                spec("hash", 4, 8, 100, "acct_inner"),
                spec("hash_of_maps", 4, 4, 8, "acct_outer").pin(cg.pin("outer")).outerOfPrevious());
        held = MapMaker.run(cg, heldCg, true, spec("hash", 8, 8, 10_000, "acct_held"));
    }

    @AfterAll
    void cleanup() {
        if (held != null) held.close();
        if (inventory != null) inventory.close();
        if (cg != null) cg.close();
    }

    private MapRecord record(Snapshot s, int id) {
        return s.map(id).orElseThrow(() -> new AssertionError("map " + id + " missing from scan"));
    }

    @Test
    void ownerIsTheCreatingProcessCgroupForEveryType() {
        Snapshot s = inventory.scan();
        check(record(s, hash.id(0)), hashCg);
        for (int i = 0; i < 3; i++) check(record(s, mix.id(i)), mixCg);
        check(record(s, mim.id(0)), mimCg);
        check(record(s, mim.id(1)), mimCg);
        check(record(s, held.id(0)), heldCg);
    }

    private void check(MapRecord m, String cgroup) {
        assertNotNull(m.memcg(), m.info().name() + " has no memcg");
        assertEquals(cgroup, m.memcg().path(), m.info().name());
        assertEquals(cg.hierarchy().id(cgroup), m.memcg().id(), "memcg id is the cgroup directory's inode");
        assertTrue(m.memcg().online());
    }

    @Test
    void bytesAreFdinfoMemlockAndTheChargeIsInTheCgroup() {
        MapRecord m = record(inventory.scan(), hash.id(0));
        try (MapFd fd = MapFd.byId(m.id())) {
            FdInfo fi = FdInfo.read(fd.fd());
            assertEquals(fi.memlock(), m.bytes());
        }
        assertTrue(m.bytes() > BIG * 72L, "a 200,000-entry hash map is larger than its raw entries: " + m.bytes());
        long charged = cg.usage(hashCg) - hashUsageBefore;
        // The creating process has exited; what stays charged is the map (and a little slab).
        if (KernelRelease.atLeast(6, 4)) {
            assertTrue(charged > m.bytes() * 9 / 10 && charged < m.bytes() + (4 << 20),
                    "usage rose by " + charged + " for a map of " + m.bytes() + " bytes");
            return;
        }
        // Before 6.4 memlock is an estimate: max_entries * round_up(key + value, 8), page-rounded,
        // i.e. the raw entries only. The charge adds element headers and the bucket array
        // (262,144 buckets of at least 8 bytes): about twice the estimate for this map on 6.1.
        long raw = (BIG * 72L + 4095) / 4096 * 4096;
        assertEquals(raw, m.bytes(), "pre-6.4 memlock estimate on " + KernelRelease.release());
        assertTrue(charged > raw + 262_144L * 8 && charged < raw * 5 / 2,
                "usage rose by " + charged + " for a map whose raw entries take " + raw + " bytes");
    }

    @Test
    void iteratorReadsTheSameAttributesAsTheKernelsMapInfo() {
        // CO-RE reads of struct bpf_map, checked against BPF_OBJ_GET_INFO_BY_FD for every map in the system.
        int compared = 0;
        List<MapRecord> maps = inventory.scan().maps();
        assertEquals(maps.stream().map(MapRecord::id).sorted().toList(), maps.stream().map(MapRecord::id).toList(),
                "in id order, as the iterator walks them");
        for (MapRecord m : maps) {
            MapInfo kernel;
            try (MapFd fd = MapFd.byId(m.id())) {
                kernel = fd.info();
            } catch (BpfException e) {
                continue; // freed since the scan
            }
            assertEquals(0, kernel.ifindex(), "no device-offloaded maps here");
            assertEquals(kernel, m.info());
            compared++;
        }
        assertTrue(compared >= 8, "compared " + compared + " maps");
    }

    @Test
    void laterScansSeeGrowthReplacedPinsAndFreedMaps() throws Exception {
        // One Inventory scanning again, as the daemon does: what it remembers must not hide a change.
        String c = cg.child("later");
        MapMaker.Maps m = MapMaker.run(cg, c, false,
                spec("hash", 4, 8, 4096, "acct_grow").flags(1).pin(cg.pin("grow")), // BPF_F_NO_PREALLOC
                spec("array", 4, 8, 16, "acct_first").pin(cg.pin("first")),
                spec("array", 4, 8, 32, "acct_second").pin(cg.pin("second")));
        int grow = m.id(0), first = m.id(1), second = m.id(2);
        Snapshot before = inventory.scan();
        assertEquals(memlock(grow), record(before, grow).bytes());
        assertEquals(List.of(cg.pin("first").toString()), record(before, first).pins());

        try (MapFd fd = (MapFd) BpfFd.openPin(cg.pin("grow"))) {
            ByteBuffer key = ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()), value = ByteBuffer.allocate(8);
            for (int i = 0; i < 2000; i++) {
                key.putInt(0, i);
                fd.update(key, value, 0);
            }
        }
        // rename(2) over a pin replaces it: same path, new inode, another map; "first" loses its last reference.
        Files.move(cg.pin("second"), cg.pin("first"), StandardCopyOption.ATOMIC_MOVE);
        Snapshot after = inventory.scan();
        long grown = record(after, grow).bytes();
        assertEquals(memlock(grow), grown);
        if (KernelRelease.atLeast(6, 4)) // memlock counts the elements since 6.4; before, it is an estimate from the attributes
            assertTrue(grown > record(before, grow).bytes() + 2000L * 8, before + " -> " + grown);
        assertEquals(List.of(cg.pin("first").toString()), record(after, second).pins());
        // The map is freed from a workqueue after its last pin goes: a later scan sees it gone.
        Await.until("map " + first + " freed with its only pin", () -> inventory.scan().map(first).isEmpty());
    }

    private static long memlock(int id) {
        try (MapFd fd = MapFd.byId(id)) {
            return FdInfo.read(fd.fd()).memlock();
        }
    }

    @Test
    void emptyCgroupsAreStranded() {
        Snapshot s = inventory.scan();
        MapRecord m = record(s, hash.id(0));
        assertFalse(m.memcg().populated(), "the creator exited");
        assertEquals("empty", m.memcg().strandedReason());
        CgroupTotal t = s.cgroups().stream().filter(c -> c.memcg().path().equals(hashCg)).findFirst().orElseThrow();
        assertEquals(m.bytes(), t.bpfBytes());
        assertEquals(m.bytes(), t.strandedBytes());
        assertEquals(1, t.maps());
        assertEquals(cg.usage(hashCg), t.usage().orElseThrow(), 1 << 20);
        // A cgroup with a live process holding its map is not stranded.
        MapRecord h = record(s, held.id(0));
        assertTrue(h.memcg().populated());
        assertNull(h.memcg().strandedReason());
    }

    @Test
    void outerSlotsAndPinsAndHolders() {
        Snapshot s = inventory.scan();
        MapRecord inner = record(s, mim.id(0));
        MapRecord outer = record(s, mim.id(1));
        assertEquals(List.of(new MapRecord.Slot(outer.id(), "00000000")), inner.outer());
        assertTrue(inner.pins().isEmpty(), "the inner map is reachable only through its slot");
        assertEquals(List.of(cg.pin("outer").toString()), outer.pins());
        MapRecord h = record(s, held.id(0));
        assertTrue(h.pins().isEmpty());
        assertEquals(List.of(held.pid()), h.processes().stream().map(MapRecord.ProcessHolder::pid).toList());
        assertTrue(record(s, hash.id(0)).processes().isEmpty());
    }

    @Test
    void programsThatUseAMapAndProcessesWithItsFdAreHolders() {
        // test_counter's program uses its maps directly: loading it from this process makes both kinds of holder.
        try (BpfObject prog = BpfObject.load("test_counter")) {
            int misses = FdInfo.read(prog.mapFd("misses")).mapId();
            MapRecord m = record(inventory.scan(), misses);
            assertEquals(List.of("count"), m.programs().stream().map(MapRecord.ProgramHolder::name).toList());
            assertTrue(m.processes().isEmpty(), "this process is left out: it holds fds only while scanning");
        }
        MapRecord h = record(inventory.scan(), held.id(0));
        assertEquals(List.of(held.pid()), h.processes().stream().map(MapRecord.ProcessHolder::pid).toList());
        assertEquals("java", h.processes().getFirst().comm());
    }

    @Test
    void removedCgroupChargeMovesToItsParent() throws Exception {
        String gone = cg.child("gone");
        MapMaker.Maps m = MapMaker.run(cg, gone, false, spec("array", 4, 1024, 1024, "acct_gone").pin(cg.pin("gone")));
        cg.remove(gone);
        // Since 6.0 the kernel reparents the charge (objcg) to the parent once the removed memcg's
        // offline work has run; until then the map is charged to an offline memcg, named from its parent.
        Await.until("the charge of " + gone + " reparented to " + cg.base(), () -> {
            MapRecord r = record(inventory.scan(), m.id(0));
            if (r.memcg().path().equals(cg.base())) return true;
            assertEquals(gone, r.memcg().path());
            assertFalse(r.memcg().online());
            assertEquals("offline", r.memcg().strandedReason());
            return false;
        });
        MapRecord r = record(inventory.scan(), m.id(0));
        assertEquals(cg.base(), r.memcg().path());
        assertTrue(r.memcg().online());
        assertTrue(r.memcg().populated(), "a process holding a map lives in the base's 'held' child");
        // The base has child cgroups but no task of its own: a kill of its tasks frees nothing, and a scan
        // without the agent's history cannot tell that the charge came from 'gone'.
        assertEquals("interior", r.memcg().strandedReason());
    }

    @Test
    void cliJsonMatchesTheScanAndBpftool() throws Exception {
        Cli.Result r = Cli.run("maps", "--json", "--cgroup", mixCg);
        assertEquals(0, r.exit(), r.err());
        JsonNode maps = new ObjectMapper().readTree(r.out());
        assertEquals(3, maps.size());
        for (JsonNode m : maps) {
            assertEquals(mixCg, m.get("memcg").get("path").asText());
            Cli.Result b = Cli.exec(List.of("bpftool", "-j", "map", "show", "id", m.get("id").asText()), null);
            JsonNode bt = new ObjectMapper().readTree(b.out());
            assertEquals(bt.get("type").asText(), m.get("type").asText());
            assertEquals(bt.get("bytes_memlock").asLong(), m.get("bytes").asLong());
            assertEquals(bt.get("name").asText(), m.get("name").asText());
        }
        assertEquals(List.of("percpu_hash", "array", "lru_hash"),
                List.of(maps.get(0).get("type").asText(), maps.get(1).get("type").asText(), maps.get(2).get("type").asText()));
    }

    @Test
    void cliCgroupsReportsStrandedTotals() throws Exception {
        Cli.Result r = Cli.run("cgroups", "--json");
        assertEquals(0, r.exit(), r.err());
        JsonNode root = new ObjectMapper().readTree(r.out());
        JsonNode row = null;
        for (JsonNode c : root.get("cgroups")) if (c.get("path").asText().equals(hashCg)) row = c;
        assertNotNull(row, "cgroups lists " + hashCg);
        assertEquals("empty", row.get("stranded_reason").asText());
        assertEquals(row.get("bpf_bytes").asLong(), row.get("stranded_bytes").asLong());
        assertEquals(row.get("usage_bytes").asLong() - row.get("bpf_bytes").asLong(), row.get("usage_without_bpf_bytes").asLong());
    }

    @Test
    @HostOnly // argument and privilege checks
    void badInputIsOneLineWithItsExitCode() throws Exception {
        Cli.Result missing = Cli.run("maps", "--cgroup", cg.base() + "/no-such-cgroup");
        assertEquals(5, missing.exit());
        assertEquals(1, missing.err().strip().lines().count(), missing.err());
        assertTrue(missing.err().startsWith("bpfcharge: memory cgroup"), missing.err());

        Cli.Result nobody = Cli.runAsNobody("maps");
        assertEquals(3, nobody.exit(), nobody.err());
        assertEquals(1, nobody.err().strip().lines().count(), nobody.err());
        assertTrue(nobody.err().contains("run as root"), nobody.err());

        Cli.Result usage = Cli.run("maps", "--no-such-flag");
        assertEquals(2, usage.exit());
    }
}
