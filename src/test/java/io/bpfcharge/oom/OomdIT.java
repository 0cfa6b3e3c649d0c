package io.bpfcharge.oom;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bpfcharge.bpf.Xattrs;
import io.bpfcharge.cgroup.MemoryHierarchy;
import io.bpfcharge.metrics.Daemon;
import io.bpfcharge.testing.Await;
import io.bpfcharge.testing.CgroupV2Only;
import io.bpfcharge.testing.Cli;
import io.bpfcharge.testing.KernelTest;
import io.bpfcharge.testing.MapMaker;
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

import static io.bpfcharge.testing.MapMaker.spec;
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
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long MIB = 1 << 20;
    // Arrays of 1 KiB values: their charge is exactly entries x 1 KiB plus a page or two on every kernel.
    private static final int PINNED = 128 * 1024, RECHARGED = 80 * 1024, HELD = 40 * 1024, STRANDED = 16 * 1024;

    @Test
    void oomdKillsWhereAKillFreesMemoryOnlyWithTheMarks() throws Exception {
        Oomd.require();
        Path dir = Files.createTempDirectory("oomd-it");
        try (TestCgroups cg = new TestCgroups()) {
            MemoryHierarchy h = cg.hierarchy();
            assertEquals(2, h.version(), "oomd needs the cgroup v2 memory controller: this test runs in the VM stage");
            String base = cg.base(), old = cg.child("old"), restarted = cg.child("restarted"), pinner = cg.child("pinner"),
                    holder = cg.child("holder"), load = cg.child("load");
            MapMaker.run(cg, old, false, spec("array", 4, 1024, STRANDED, "oomd_stranded").pin(cg.pin("stranded")),
                    spec("array", 4, 1024, RECHARGED, "oomd_recharged").pin(cg.pin("recharged")));
            MapMaker.Maps restartedProcess = MapMaker.run(cg, restarted, true);
            Cli.Result moved = Cli.exec(migrate(dir, cg.pin("recharged"), restarted), null);
            assertEquals(0, moved.exit(), moved.err());
            MapMaker.Maps pinned = MapMaker.run(cg, pinner, true, spec("array", 4, 1024, PINNED, "oomd_pinned").pin(cg.pin("pinned")));
            MapMaker.Maps held = MapMaker.run(cg, holder, true, spec("array", 4, 1024, HELD, "oomd_held"));

            // The four states, as bpfcharge sees them: oomd's figure picks the pinner, less what survives the holder.
            JsonNode o = oomd(base);
            assertEquals(pinner, o.get("victim").asText(), o.toString());
            assertEquals(holder, o.get("adjusted_victim").asText(), o.toString());
            assertTrue(row(o, restarted).get("bpf_surviving_kill_bytes").asLong() >= RECHARGED * 1024L, "recharged, pinned: " + o);
            assertTrue(row(o, pinner).get("bpf_surviving_kill_bytes").asLong() >= PINNED * 1024L, o.toString());
            assertEquals(0, row(o, holder).get("bpf_surviving_kill_bytes").asLong(), o.toString());
            assertTrue(cg.usage(old) >= STRANDED * 1024L, "the stranded charge stays with the empty cgroup");

            // Without marks: oomd kills the pinner, and its map stays charged there.
            Kill before = killUnderPressure(cg, dir.resolve("unmarked"), load, List.of(old, restarted, pinner, holder));
            System.out.println("oomd without marks: " + before);
            assertEquals(pinner, before.victim(), before.log());
            assertFalse(pinned.process().isAlive(), "oomd killed the pinner's process");
            assertTrue(held.process().isAlive() && restartedProcess.process().isAlive(), "and no other");
            assertTrue(before.victimAfter() >= PINNED * 1024L, "the pinned map is still charged to the pinner: " + before);

            // With serve --oomd-avoid: the restarted container (now the largest, by its recharged pinned map) is
            // avoided, oomd kills the holder, and the kill frees the held map too. A mark someone else set stays.
            Xattrs.set(h.dir(old), OomdMarks.AVOID, "1");
            try (Daemon serve = new Daemon(Map.of(), ProcessBuilder.Redirect.DISCARD, "--oomd-avoid", base,
                    "--oom-map-interval", "1", "--max-scan-age", "0")) {
                Await.until("serve marks the restarted container", () -> Xattrs.has(h.dir(restarted), OomdMarks.AVOID));
                assertFalse(Xattrs.has(h.dir(holder), OomdMarks.AVOID), "the holder, whose kill frees its map, is not marked");
                Kill after = killUnderPressure(cg, dir.resolve("marked"), load, List.of(old, restarted, pinner, holder));
                System.out.println("oomd with serve --oomd-avoid: " + after);
                assertEquals(holder, after.victim(), after.log());
                assertFalse(held.process().isAlive(), "oomd killed the holder's process");
                assertTrue(restartedProcess.process().isAlive(), "and not the restarted container's");
                Await.until("the held map is freed with its holder", () -> cg.usage(holder) < HELD * 1024L / 2);
                long freed = after.victimBefore() - cg.usage(holder);
                assertTrue(freed > HELD * 1024L && freed > before.victimFreed(), "the kill freed the map and more than the unmarked one: "
                        + freed + " bytes, " + after + ", " + before);
            }
            assertFalse(Xattrs.has(h.dir(restarted), OomdMarks.AVOID), "serve removed its own mark on exit");
            assertFalse(Xattrs.has(h.dir(restarted), OomdMarks.OWNER));
            assertTrue(Xattrs.has(h.dir(old), OomdMarks.AVOID), "and left the one it did not set");
            restartedProcess.close();
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
     * in {@code load}), runs oomd until it kills in one of {@code candidates}, then lifts the pressure.
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

    private static List<String> migrate(Path runDir, Path pin, String to) {
        List<String> cmd = new ArrayList<>(List.of("env", "BPFCHARGE_RUN_DIR=" + runDir.resolve("run")));
        cmd.addAll(Cli.command("migrate", "--map", pin.toString(), "--to-cgroup", to));
        return cmd;
    }

    private static JsonNode oomd(String under) throws IOException, InterruptedException {
        Cli.Result r = Cli.run("oom", "--json", "--policy", "oomd", "--cgroup", under);
        assertEquals(0, r.exit(), r.err());
        return JSON.readTree(r.out());
    }

    private static JsonNode row(JsonNode oom, String path) {
        for (JsonNode r : oom.get("cgroups")) if (r.get("path").asText().equals(path)) return r;
        throw new AssertionError(path + " not in " + oom);
    }
}
