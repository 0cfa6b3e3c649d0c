package io.bpfcharge.migrate;

import io.bpfcharge.BpfchargeException;
import io.bpfcharge.BpfchargeException.Exit;
import io.bpfcharge.bpf.MapFd;
import io.bpfcharge.bpf.MapInfo;
import io.bpfcharge.testing.Cli;
import io.bpfcharge.testing.MapMaker;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static io.bpfcharge.testing.MapMaker.spec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The native map-creating helper (bpf/create_helper.c) on its own: the twin it creates is charged to the target
 * memcg, as that cgroup's usage file shows, while the caller stays where it was; it says ENOMEM as no room; it
 * removes its pin when its parent is gone; and it runs from memory, also where the run directory is noexec. (A helper
 * killed at each of its steps, and the rerun after it, are MigrateFailureIT's.)
 */
class CreateHelperIT extends MigrationTestBase {

    /** Makes the maps in src (the maker exits: they stay by their pins) and returns their ids. */
    private List<Integer> make(MapMaker.Spec... specs) throws Exception {
        try (MapMaker.Maps m = MapMaker.run(cg, src, false, specs)) {
            return m.ids();
        }
    }

    @Test
    void theTwinIsChargedToTheTargetAndHasTheOldMapsAttributes() throws Exception {
        var h = cg.hierarchy();
        Path pin = cg.pin("charged"), twinPin = cg.pin("charged_twin");
        // 20,000 preallocated elements of 512 bytes: about 11 MB, far above what a process start moves.
        int old = make(spec("hash", 8, 512, 20_000, "charged").pin(pin)).getFirst();
        String self = h.cgroupOf(ProcessHandle.current().pid());
        long before = cg.usage(dst);
        int twin = CreateHelper.create(h, dst, old, 0, twinPin);
        long grown = cg.usage(dst) - before;
        try (MapFd t = Kernel.open(twinPin); MapFd o = MapFd.byId(old)) {
            long memlock = t.memlock();
            // Linux 6.1's memlock is an estimate from the attributes (9.9 MB for this map; 6.18 says about 11 MB).
            assertTrue(memlock > 8 << 20, "memlock " + memlock);
            assertTrue(grown >= memlock / 2, dst + " grew by " + grown + " bytes for a twin of " + memlock);
            assertEquals(h.id(dst), Kernel.chargedTo(twin), "the iterator sees the twin charged to the target");
            MapInfo a = o.info(), b = t.info();
            assertEquals(twin, b.id());
            assertNotEquals(old, twin);
            assertEquals(List.of(a.type(), a.name(), a.keySize(), a.valueSize(), a.maxEntries(), a.flags(), a.btfKeyTypeId(), a.btfValueTypeId()),
                    List.of(b.type(), b.name(), b.keySize(), b.valueSize(), b.maxEntries(), b.flags(), b.btfKeyTypeId(), b.btfValueTypeId()));
        }
        assertEquals(self, h.cgroupOf(ProcessHandle.current().pid()), "the caller never moved");
        assertEquals(List.of(), h.processes(dst), "the helper left the target");
        Files.delete(twinPin);
        Files.delete(pin);
    }

    @Test
    void anOuterMapsTwinTakesItsInnerTemplate() throws Exception {
        Path inner = cg.pin("t_inner"), outer = cg.pin("t_outer"), twinPin = cg.pin("t_twin");
        List<Integer> ids = make(spec("hash", 4, 8, 100, "t_inner").pin(inner),
                spec("hash_of_maps", 4, 4, 4, "t_outer").pin(outer).outerOfPrevious());
        int twin = CreateHelper.create(cg.hierarchy(), dst, ids.get(1), ids.get(0), twinPin);
        try (MapFd t = Kernel.open(twinPin)) {
            assertEquals("hash_of_maps", t.info().type().name());
            assertEquals(cg.hierarchy().id(dst), Kernel.chargedTo(twin));
        }
        Files.delete(twinPin);
        Files.delete(outer);
        Files.delete(inner);
    }

    @Test
    void noRoomInTheTargetIsNoRoomAndLeavesNothing() throws Exception {
        Path pin = cg.pin("noroom"), twinPin = cg.pin("noroom_twin");
        int old = make(spec("hash", 8, 512, 20_000, "noroom").pin(pin)).getFirst();
        String tight = cg.child("tight");
        cg.setLimit(tight, 1 << 20);
        var e = assertThrows(BpfchargeException.class, () -> CreateHelper.create(cg.hierarchy(), tight, old, 0, twinPin));
        assertEquals(Exit.NO_ROOM, e.exit(), e.getMessage());
        assertTrue(e.getMessage().endsWith("create the twin of map id " + old + ": ENOMEM"), e.getMessage());
        assertFalse(Files.exists(twinPin));
        var missing = assertThrows(BpfchargeException.class,
                () -> CreateHelper.create(cg.hierarchy(), dst, Integer.MAX_VALUE, 0, twinPin));
        assertEquals(Exit.FAILED, missing.exit());
        assertTrue(missing.getMessage().endsWith("open map id " + Integer.MAX_VALUE + ": ENOENT"), missing.getMessage());
        Files.delete(pin);
        cg.remove(tight);
    }

    /** Its parent died (a killed bpfcharge): nobody would take the twin over, so the helper removes its pin. */
    @Test
    void aHelperWhoseParentIsGoneRemovesItsPinAndFails() throws Exception {
        var h = cg.hierarchy();
        Path pin = cg.pin("orphan"), twinPin = cg.pin("orphan_twin");
        int old = make(spec("hash", 8, 8, 100, "orphan").pin(pin)).getFirst();
        String own = h.ownCgroup();
        // Its parent is this JVM, not process 1: as if this JVM had died and the helper been reparented.
        Process p = new ProcessBuilder(HelperBinary.path().toString(), "--parent", "1", "--map", Integer.toString(old),
                "--join", h.procs(dst).toString(), "--return", h.procs(own).toString(), "--pin", twinPin.toString()).start();
        assertEquals(1, p.waitFor());
        assertEquals("the parent process 1 is gone: the twin was removed",
                new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8).strip());
        assertFalse(Files.exists(twinPin));
        assertEquals(own, h.cgroupOf(ProcessHandle.current().pid()));
        Files.delete(pin);
    }

    /**
     * Debian's and Ubuntu's /run is mounted noexec (by initramfs-tools), and the run directory is below it: the
     * helper runs from memory, so a migration whose run directory is noexec works and leaves no program there.
     */
    @Test
    void theHelperRunsFromMemoryWhereTheRunDirectoryIsNoexec() throws Exception {
        Path pin = cg.pin("noexec"), mnt = Files.createTempDirectory("bpfcharge-noexec");
        make(spec("hash", 8, 8, 100, "noexec").pin(pin));
        assertEquals(0, new ProcessBuilder("mount", "-t", "tmpfs", "-o", "noexec,size=16m", "tmpfs", mnt.toString())
                .inheritIO().start().waitFor());
        try {
            Cli.Result r = Kernel.migrate(mnt, null, "--map", pin.toString(), "--to-cgroup", dst);
            assertEquals(0, r.exit(), r.err());
            assertEquals(List.of(), Kernel.runFilesLeft(mnt));
            assertTrue(Files.exists(mnt.resolve("migrations.jsonl")));
        } finally {
            new ProcessBuilder("umount", mnt.toString()).inheritIO().start().waitFor();
            Files.delete(mnt);
            Files.delete(pin);
        }
    }
}
