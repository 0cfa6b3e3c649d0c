package io.bpfcharge.inventory;

import io.bpfcharge.testing.Await;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bpfcharge.bpf.BpfException;
import io.bpfcharge.bpf.BpfObject;
import io.bpfcharge.bpf.MapFd;
import io.bpfcharge.bpf.ProgFd;
import io.bpfcharge.testing.Cli;
import io.bpfcharge.testing.KernelTest;
import io.bpfcharge.testing.MapMaker;
import io.bpfcharge.testing.TestCgroups;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static io.bpfcharge.testing.MapMaker.spec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Freed by a kill or surviving it, against the real kernel: maps made by processes in fresh memcgs, kept
 * by pins, fds, outer maps and programs inside or outside the cgroup; every verdict is then checked by
 * killing the cgroup's tasks and seeing which maps the kernel really frees.
 */
@KernelTest
class KillSplitIT {
    private TestCgroups cg;
    private Inventory inventory;

    @BeforeEach
    void setUp() {
        cg = new TestCgroups();
        inventory = new Inventory(cg.hierarchy());
    }

    @AfterEach
    void tearDown() {
        if (inventory != null) inventory.close();
        if (cg != null) cg.close();
    }

    private Fate fate(int mapId) {
        Snapshot s = inventory.scan();
        MapRecord m = s.map(mapId).orElseThrow(() -> new AssertionError("map " + mapId + " missing"));
        return s.fate(m);
    }

    private CgroupTotal total(String path) {
        return inventory.scan().cgroups().stream().filter(t -> t.memcg().path().equals(path)).findFirst()
                .orElseThrow(() -> new AssertionError(path + " holds no charge"));
    }

    private static boolean alive(int id) {
        try (MapFd ignored = MapFd.byId(id)) {
            return true;
        } catch (BpfException e) {
            return false;
        }
    }

    @Test
    void pinnedSurvivesAndAMapHeldOnlyByATaskInsideIsFreed() throws Exception {
        String app = cg.child("app");
        MapMaker.Maps m = MapMaker.run(cg, app, true, spec("hash", 8, 64, 4096, "ks_pinned").pin(cg.pin("pinned")),
                spec("hash", 8, 64, 8192, "ks_held"));
        int pinned = m.id(0), held = m.id(1);
        assertEquals(Fate.PINNED, fate(pinned));
        assertEquals(Fate.FREED, fate(held));
        CgroupTotal t = total(app);
        Snapshot s = inventory.scan();
        long heldBytes = s.map(held).orElseThrow().bytes(), pinnedBytes = s.map(pinned).orElseThrow().bytes();
        assertEquals(heldBytes, t.freedByKillBytes());
        assertEquals(pinnedBytes, t.survivingKillBytes());

        JsonNode row = cgroupsJson(app);
        assertEquals(heldBytes, row.get("bpf_freed_by_kill_bytes").asLong());
        assertEquals(pinnedBytes, row.get("bpf_surviving_kill_bytes").asLong());

        m.close(); // the kill: every task of the cgroup dies
        Await.until("map " + held + " freed with its only holder", () -> !alive(held));
        assertTrue(alive(pinned), "the pin keeps map " + pinned);
    }

    @Test
    void innerMapLivesAsLongAsItsOuterMap() throws Exception {
        String app = cg.child("mim");
        MapMaker.Maps m = MapMaker.run(cg, app, true, spec("hash", 4, 8, 1024, "ks_inner"),
                spec("hash_of_maps", 4, 4, 4, "ks_outer").outerOfPrevious());
        int inner = m.id(0), outer = m.id(1);
        assertEquals(Fate.FREED, fate(inner));
        assertEquals(Fate.FREED, fate(outer));
        // This test process (outside the cgroup) now keeps the outer map, and through its slot the inner one.
        try (MapFd kept = MapFd.byId(outer)) {
            assertEquals(Fate.HELD_OUTSIDE, fate(outer));
            survivesTheKill(m, app, inner, Fate.OUTER_KEPT);
        }
        Await.until("inner map " + inner + " freed with its outer map", () -> !alive(inner) && !alive(outer));
    }

    @Test
    void mapUsedByAProgramHeldOutsideSurvives() throws Exception {
        String app = cg.child("prog");
        // Shaped like test_counter's "misses" map, so that its program can be loaded on this map.
        MapMaker.Maps m = MapMaker.run(cg, app, true, spec("array", 4, 8, 1, "ks_used"));
        int used = m.id(0);
        assertEquals(Fate.FREED, fate(used));
        // Only the program (kept by this process's fd) and the task inside hold the map now.
        try (ProgFd prog = programOn(used)) {
            survivesTheKill(m, app, used, Fate.PROGRAM_KEPT);
        }
        Await.until("map " + used + " freed with the program", () -> !alive(used));
    }

    @Test
    void aPinnedProgramKeepsItsMapUntilUnpinned() throws Exception {
        String app = cg.child("inside");
        MapMaker.Maps m = MapMaker.run(cg, app, true, spec("array", 4, 8, 1, "ks_inside"));
        int used = m.id(0);
        // A pin is outside every cgroup: the pinned program keeps the map until the pin goes.
        Path pin = cg.pin("prog");
        try (ProgFd p = programOn(used)) {
            p.pin(pin);
        }
        assertEquals(Fate.PROGRAM_KEPT, fate(used));
        Files.delete(pin);
        Await.until("program unpinned and freed", () -> fate(used) == Fate.FREED);
        m.close();
        Await.until("map " + used + " freed", () -> !alive(used));
    }

    @Test
    void aReferenceBpfchargeCannotSeeKeepsTheMap() throws Exception {
        String app = cg.child("unseen");
        MapMaker.Maps m = MapMaker.run(cg, app, true, spec("hash", 8, 8, 512, "ks_unseen"));
        int id = m.id(0);
        assertEquals(Fate.FREED, fate(id));
        // A pin in a bpffs mounted in another mount namespace: invisible from here, but it holds a reference.
        Path dir = Files.createTempDirectory("bpfcharge-unseen");
        Process other = cg.track(new ProcessBuilder("unshare", "-m", "--propagation", "private", "sh", "-c",
                "mount -t bpf bpf " + dir + " && bpftool map pin id " + id + " " + dir + "/p && echo pinned && exec sleep 600")
                .redirectErrorStream(true).start());
        try {
            String line = new String(other.getInputStream().readNBytes(7));
            assertEquals("pinned", line.strip(), "the other namespace's pin");
            survivesTheKill(m, app, id, Fate.UNSEEN_REFERENCE);
        } finally {
            other.destroyForcibly().waitFor();
            Files.deleteIfExists(dir);
        }
        Await.until("map " + id + " freed with the other namespace's bpffs", () -> !alive(id));
    }

    /**
     * The verdict, the cgroup's split, then the kill: the map must still be there once the kernel's deferred frees
     * have run. A map's id goes when its last reference does, but a holder the kill frees (an outer map, a
     * program) lets go of it later, in a work item after RCU: a canary outer map killed just after the tasks,
     * whose inner map is gone once that work has run, tells when (no fixed sleep).
     */
    private void survivesTheKill(MapMaker.Maps tasks, String cgroup, int map, Fate expected) throws Exception {
        assertEquals(expected, fate(map));
        assertEquals(0, total(cgroup).freedByKillBytes());
        MapMaker.Maps canary = MapMaker.run(cg, cg.child("canary"), true, spec("hash", 4, 8, 1, "ks_canary_in"),
                spec("array_of_maps", 4, 4, 1, "ks_canary").outerOfPrevious());
        tasks.close();
        canary.close();
        Await.until("the canary's inner map " + canary.id(0) + " freed with its outer map", () -> !alive(canary.id(0)));
        assertTrue(alive(map), expected + " keeps map " + map + " after the kill");
    }

    /**
     * test_counter's program loaded on a map shaped like its "misses" map, kept by this process's fd only:
     * the object (and its own fds on the program and the map) is closed.
     */
    private static ProgFd programOn(int mapId) {
        try (MapFd map = MapFd.byId(mapId); BpfObject obj = BpfObject.load("test_counter", Map.of("misses", map), null)) {
            return programUsing(mapId);
        }
    }

    /** The program (this process's new fd) that uses a map. */
    private static ProgFd programUsing(int mapId) {
        for (int id : ProgFd.ids()) {
            ProgFd p;
            try {
                p = ProgFd.byId(id);
            } catch (BpfException e) {
                continue;
            }
            if (p.info().mapIds().contains(mapId)) return p;
            p.close();
        }
        throw new AssertionError("no program uses map " + mapId);
    }

    private static JsonNode cgroupsJson(String path) throws Exception {
        Cli.Result r = Cli.run("cgroups", "--json");
        assertEquals(0, r.exit(), r.err());
        for (JsonNode c : new ObjectMapper().readTree(r.out()).get("cgroups")) if (c.get("path").asText().equals(path)) return c;
        throw new AssertionError(path + " not in cgroups --json: " + r.out());
    }

}
