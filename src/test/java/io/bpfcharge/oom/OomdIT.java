package io.bpfcharge.oom;

import io.bpfcharge.bpf.BpfFd;
import io.bpfcharge.bpf.MapFd;
import io.bpfcharge.bpf.Xattrs;
import io.bpfcharge.cgroup.MemoryHierarchy;
import io.bpfcharge.inventory.Inventory;
import io.bpfcharge.metrics.Daemon;
import io.bpfcharge.migrate.MigrationRequest;
import io.bpfcharge.migrate.MigrationResult;
import io.bpfcharge.migrate.Migrator;
import io.bpfcharge.migrate.RunDir;
import io.bpfcharge.testing.Await;
import io.bpfcharge.testing.CgroupV2Only;
import io.bpfcharge.testing.Cli;
import io.bpfcharge.testing.KernelTest;
import io.bpfcharge.testing.Oomd;
import io.bpfcharge.testing.TestCgroups;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Real oomd 0.5.0 under real memory pressure (memory.high on the test's cgroup below what its children use, a
 * process that keeps allocating: the kernel throttles it, PSI rises) against containers whose BPF charges are in
 * each state: stranded in an empty "old" cgroup; recharged (bpfcharge migrate) into "restarted"; pinned by
 * "pinner"'s own map; held only by "holder"'s process. Without marks oomd kills the pinner, the largest by
 * memory.current, and the kill frees only its process's pages; with {@code serve --oomd-avoid} it kills the holder,
 * and the kill frees the map too. What is asserted is what oomd did: the cgroup it marked killed, its log line,
 * which processes died and the bytes memory.current lost.
 */
@KernelTest
@CgroupV2Only
class OomdIT {
    private static final long MIB = 1 << 20;
    // Entries of the maps, all of 1 KiB values: each is charged at least entries x 1 KiB.
    private static final int PINNED = 128 * 1024, RECHARGED = 80 * 1024, HELD = 40 * 1024, STRANDED = 16 * 1024;

    @Test
    void oomdKillsWhereAKillFreesMemoryOnlyWithTheMarks() throws Exception {
        assertEquals(2, MemoryHierarchy.detect().version(), "oomd needs the cgroup v2 memory controller: this test runs in the VM stage");
        Oomd.require();
        Path dir = Files.createTempDirectory("oomd-it");
        try (TestCgroups cg = new TestCgroups()) {
            MemoryHierarchy h = cg.hierarchy();
            String base = cg.base(), old = cg.child("old"), restarted = cg.child("restarted"), pinner = cg.child("pinner"),
                    holder = cg.child("holder"), load = cg.child("load");
            // Maps made by bpftool from a shell moved into each cgroup; the containers' processes are sleep and
            // mapholder (src/test/c): a JVM start costs half a minute in the VM stage.
            Path mapholder = dir.resolve("mapholder");
            Cli.Result cc = Cli.exec(List.of("gcc", "-O2", "-o", mapholder.toString(), "src/test/c/mapholder.c"), null);
            assertEquals(0, cc.exit(), "gcc mapholder.c: " + cc.err());
            Cli.Result made = Cli.exec(List.of("sh", "-c", "echo $$ > " + h.procs(old) + " && " + array(cg.pin("stranded"), STRANDED)
                    + " && " + preallocatedHash(cg.pin("recharged"), RECHARGED)), null);
            assertEquals(0, made.exit(), made.err());
            Process restartedProcess = container(cg, restarted, "true");
            Process pinnerProcess = container(cg, pinner, array(cg.pin("pinned"), PINNED));
            Process holderProcess = cg.track(new ProcessBuilder("sh", "-c", "echo $$ > " + h.procs(holder) + " && "
                    + array(cg.pin("held"), HELD) + " && exec " + mapholder + " " + cg.pin("held")).start());
            String holding = new java.io.BufferedReader(new java.io.InputStreamReader(holderProcess.getInputStream())).readLine();
            assertEquals("holding", holding, "mapholder holds the holder's map");
            try (Inventory inventory = new Inventory(h)) {
                MigrationResult moved = new Migrator(inventory, new RunDir(dir.resolve("run"))).migrate(MigrationRequest.of(idAt(cg.pin("recharged")), restarted));
                assertEquals(io.bpfcharge.migrate.Result.MIGRATED, moved.result(), moved.toString());
                Await.until("the pinner's map is made", () -> Files.exists(cg.pin("pinned")));

                // The four states, as bpfcharge sees them: oomd's figure picks the pinner, less what survives the holder.
                Ranking r = Ranking.of(Policy.OOMD, Leaves.read(h, base, inventory.scan()), Leaves.totalMemory());
                assertEquals(pinner, r.victim().orElseThrow().leaf().path(), r.toString());
                assertEquals(holder, r.adjustedVictim().orElseThrow().leaf().path(), r.toString());
                assertTrue(leaf(r, restarted).survivingKillBytes() >= RECHARGED * 1024L, "recharged, pinned: " + r);
                assertTrue(leaf(r, pinner).survivingKillBytes() >= PINNED * 1024L, r.toString());
                assertEquals(0, leaf(r, holder).survivingKillBytes(), r.toString());
                assertTrue(leaf(r, old).bpfBytes() >= STRANDED * 1024L && leaf(r, old).processes() == 0, "stranded in the empty old cgroup: " + r);
            }

            // Without marks: oomd kills the pinner, and its map stays charged there.
            Kill before = killUnderPressure(cg, dir.resolve("unmarked"), load, List.of(old, restarted, pinner, holder, load));
            System.out.println("oomd without marks: " + before);
            assertEquals(pinner, before.victim(), before.log());
            assertFalse(pinnerProcess.isAlive(), "oomd killed the pinner's process");
            assertTrue(holderProcess.isAlive() && restartedProcess.isAlive(), "and no other");
            assertTrue(before.victimAfter() >= PINNED * 1024L, "the pinned map is still charged to the pinner: " + before);

            // With serve --oomd-avoid: the restarted container (now the largest, by its recharged pinned map) is
            // avoided, oomd kills the holder, and the kill frees the held map too. A mark someone else set stays.
            Xattrs.set(h.dir(old), OomdMarks.AVOID, "1");
            try (Daemon serve = new Daemon(Map.of(), ProcessBuilder.Redirect.DISCARD, "--oomd-avoid", base,
                    "--oom-map-interval", "1", "--max-scan-age", "0")) {
                Await.until("serve marks the restarted container", () -> Xattrs.has(h.dir(restarted), OomdMarks.AVOID));
                assertFalse(Xattrs.has(h.dir(holder), OomdMarks.AVOID), "the holder, whose kill frees its map, is not marked");
                Kill after = killUnderPressure(cg, dir.resolve("marked"), load, List.of(old, restarted, pinner, holder, load));
                assertEquals(holder, after.victim(), after.log());
                assertFalse(holderProcess.isAlive(), "oomd killed the holder's process");
                assertTrue(restartedProcess.isAlive(), "and not the restarted container's");
                Await.until("the held map is freed with its holder", () -> cg.usage(holder) < HELD * 1024L / 2);
                long freed = after.victimBefore() - cg.usage(holder);
                // The map is freed by a kernel work item after its last fd closes: shortly after the cgroup empties.
                System.out.printf("oomd with serve --oomd-avoid: %s; %.1f MiB freed once the map was%n", after, freed / (double) MIB);
                assertTrue(freed > HELD * 1024L - MIB && freed > before.victimFreed(), "the kill freed the map and more than the unmarked one: "
                        + freed + " bytes, " + after + ", " + before);
            }
            assertFalse(Xattrs.has(h.dir(restarted), OomdMarks.AVOID), "serve removed its own mark on exit");
            assertFalse(Xattrs.has(h.dir(restarted), OomdMarks.OWNER));
            assertTrue(Xattrs.has(h.dir(old), OomdMarks.AVOID), "and left the one it did not set");
        } finally {
            try (var walk = Files.walk(dir)) {
                for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(p);
            }
        }
    }

    /**
     * What one oomd kill did: the cgroup it killed in, the victim's and the parent's memory.current just before
     * oomd started and once the victim's processes were gone.
     */
    record Kill(String victim, long victimBefore, long victimAfter, long parentBefore, long parentAfter, String log) {
        long victimFreed() { return victimBefore - victimAfter; }

        @Override
        public String toString() {
            return "killed in %s: its memory.current %d -> %d MiB (freed %.1f MiB), the parent's %d -> %d MiB".formatted(
                    victim.substring(victim.lastIndexOf('/') + 1), victimBefore / MIB, victimAfter / MIB,
                    victimFreed() / (double) MIB, parentBefore / MIB, parentAfter / MIB);
        }
    }

    /**
     * Puts the test's cgroup under pressure (memory.high 32 MiB below its usage, a loop allocating 4 MiB at a time
     * in {@code load}), runs oomd until it kills in one of {@code candidates} (every child: a wrong victim fails at
     * once), then lifts the pressure.
     */
    private static Kill killUnderPressure(TestCgroups cg, Path dir, String load, List<String> candidates) throws Exception {
        MemoryHierarchy h = cg.hierarchy();
        Files.createDirectories(dir);
        List<String> fresh = new ArrayList<>();
        for (String c : candidates) if (!Oomd.killedIn(h, c)) fresh.add(c);
        long[] before = new long[fresh.size()];
        for (int i = 0; i < before.length; i++) before[i] = cg.usage(fresh.get(i));
        long parentBefore = cg.usage(cg.base());
        Path high = h.dir(cg.base()).resolve("memory.high");
        Files.writeString(high, Long.toString(parentBefore - 32 * MIB));
        Process loop = cg.track(new ProcessBuilder("sh", "-c", "echo $$ > " + h.procs(load)
                + " && exec sh -c 'while :; do dd if=/dev/zero of=/dev/null bs=4M count=1 2>/dev/null; done'").start());
        try (Oomd oomd = new Oomd(h, cg.base(), dir)) {
            String[] victim = new String[1];
            Await.until("oomd kills in one of " + fresh, Duration.ofSeconds(120), () -> {
                for (String c : fresh) if (Oomd.killedIn(h, c)) victim[0] = c;
                if (victim[0] == null && !oomd.alive()) throw new AssertionError("oomd exited: " + oomd.log());
                return victim[0] != null;
            });
            Await.until("oomd's victim is empty", () -> !h.populated(victim[0]));
            String log = oomd.log();
            assertTrue(log.contains("Picked \"" + victim[0].substring(1) + "\""), "oomd's log names its victim: " + log);
            int i = fresh.indexOf(victim[0]);
            return new Kill(victim[0], before[i], cg.usage(victim[0]), parentBefore, cg.usage(cg.base()), log);
        } finally {
            loop.destroyForcibly().waitFor();
            Files.writeString(high, "max");
        }
    }

    /** A pinned array of 1 KiB values, made by bpftool: its charge is the entries plus a page or two. */
    private static String array(Path pin, int entries) {
        return "bpftool map create " + pin + " type array key 4 value 1024 entries " + entries + " name oomd_it";
    }

    /**
     * A pinned, empty, preallocated hash of 1 KiB values: charged in full when made, and a migration copies no
     * entry (an array's 80 MiB took minutes to copy in the VM stage on a loaded host).
     */
    private static String preallocatedHash(Path pin, int entries) {
        return "bpftool map create " + pin + " type hash key 8 value 1024 entries " + entries + " name oomd_it";
    }

    /** A container's process: a shell that moves itself into {@code cgroup}, runs {@code first}, then sleeps. */
    private static Process container(TestCgroups cg, String cgroup, String first) throws IOException {
        return cg.track(new ProcessBuilder("sh", "-c", "echo $$ > " + cg.hierarchy().procs(cgroup) + " && " + first
                + " && exec sleep 1000000").start());
    }

    private static int idAt(Path pin) {
        try (MapFd m = (MapFd) BpfFd.openPin(pin)) {
            return m.info().id();
        }
    }

    private static Leaf leaf(Ranking r, String path) {
        for (Ranking.Row row : r.rows()) if (row.leaf().path().equals(path)) return row.leaf();
        throw new AssertionError(path + " not ranked: " + r);
    }
}
