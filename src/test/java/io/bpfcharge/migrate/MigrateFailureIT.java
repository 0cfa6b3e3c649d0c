package io.bpfcharge.migrate;

import io.bpfcharge.bpf.BpfObject;
import io.bpfcharge.bpf.MapFd;
import io.bpfcharge.bpf.ProgFd;
import io.bpfcharge.testing.Cli;
import io.bpfcharge.testing.HostOnly;
import io.bpfcharge.testing.MapMaker;
import io.bpfcharge.testing.PausePoints;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static io.bpfcharge.testing.MapMaker.spec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad input (one line, documented exit code, nothing changed) and kill -9 at every step followed by a rerun. */
class MigrateFailureIT extends MigrationTestBase {

    private void refused(int exit, String expect, Path unchanged, String... args) throws Exception {
        int before = unchanged == null ? 0 : Kernel.idAt(unchanged);
        Cli.Result r = Kernel.migrate(runDir, null, args);
        assertEquals(exit, r.exit(), r.out() + r.err());
        String err = r.err().strip();
        assertFalse(err.contains("\n"), "one line: " + err);
        assertTrue(err.startsWith("bpfcharge: ") && err.contains(expect), err);
        assertFalse(err.contains("Exception"), err);
        if (unchanged != null) assertEquals(before, Kernel.idAt(unchanged), "nothing changed");
    }

    @Test
    @HostOnly // argument and privilege checks; the refusals that read the target's memcg are the next test
    void badInputIsOneLineWithItsExitCodeAndChangesNothing() throws Exception {
        Path pin = cg.pin("bad"), queue = cg.pin("queue");
        try (MapMaker.Maps m = MapMaker.run(cg, src, false, spec("hash", 8, 64, 1000, "bad").pin(pin),
                spec("queue", 0, 8, 16, "q").pin(queue))) {
            refused(5, "no such pin", null, "--map", cg.pin("nope").toString(), "--to-cgroup", dst);
            refused(5, "no map with id", null, "--map", "id:2000000000", "--to-cgroup", dst);
            refused(2, "a positive number", null, "--map", "id:-5", "--to-cgroup", dst);
            refused(2, "a positive number", null, "--map", "id:0", "--to-cgroup", dst);
            // What --map names instead of a pin is said, not an errno.
            Path outside = Files.createTempFile("bpfcharge-not-a-pin", ""), link = cg.pin("link_out");
            try {
                Files.createSymbolicLink(link, outside);
                refused(6, link + " (a symlink to " + outside.toRealPath() + ") is not in a bpffs mount", null,
                        "--map", link.toString(), "--to-cgroup", dst);
                refused(5, cg.pinDir() + " is a directory, not a pin", null, "--map", cg.pinDir().toString(), "--to-cgroup", dst);
            } finally {
                Files.deleteIfExists(link);
                Files.delete(outside);
            }
            refused(6, "queue map", queue, "--map", queue.toString(), "--to-cgroup", dst);
            // Under --json the refusal is also one JSON object on stdout, with the same exit code.
            Cli.Result json = Kernel.migrate(runDir, null, "--map", queue.toString(), "--to-cgroup", dst, "--json");
            assertEquals(6, json.exit(), json.err());
            var doc = new com.fasterxml.jackson.databind.ObjectMapper().readTree(json.out());
            assertEquals(6, doc.get("exit").asInt());
            assertTrue(doc.get("error").asText().contains("queue map"), json.out());
            // A dry run records nothing in migrations.jsonl, refused or not.
            long lines = history().size();
            Cli.Result dry = Kernel.migrate(runDir, null, "--map", queue.toString(), "--to-cgroup", dst, "--dry-run");
            assertEquals(6, dry.exit(), dry.err());
            Cli.Result dryNoop = Kernel.migrate(runDir, null, "--map", pin.toString(), "--to-cgroup", src, "--dry-run");
            assertEquals(0, dryNoop.exit(), dryNoop.err());
            assertEquals(lines, history().size(), "a dry run was recorded");
            // The root memcg is no target: refused before anything is created.
            refused(6, "root memory cgroup", pin, "--map", pin.toString(), "--to-cgroup", "/");
            refused(6, "root memory cgroup", pin, "--map", pin.toString(), "--to-pid", Long.toString(kthreadd()));
            refused(5, "does not exist", pin, "--map", pin.toString(), "--to-cgroup", cg.base() + "/missing");
            Process dead = new ProcessBuilder("true").start();
            dead.waitFor();
            refused(5, "process " + dead.pid() + " does not exist", pin, "--map", pin.toString(), "--to-pid", Long.toString(dead.pid()));
            refused(2, "--to-pid -5: expected a process id (a positive number)", pin, "--map", pin.toString(), "--to-pid", "-5");
            refused(2, "'abc' is not a whole number", pin, "--map", pin.toString(), "--to-pid", "abc");
            // A zombie: the kernel shows it in the root cgroup, which must not read as "the target is the root memcg".
            Process parent = new ProcessBuilder("sh", "-c", "sleep 0 & echo $!; exec sleep 60").start();
            try {
                long zombie = Long.parseLong(new java.io.BufferedReader(new java.io.InputStreamReader(parent.getInputStream())).readLine().strip());
                io.bpfcharge.testing.Await.until("process " + zombie + " is a zombie", () -> Files.readString(
                        Path.of("/proc/" + zombie + "/stat")).replaceFirst("^.*\\) ", "").startsWith("Z"));
                refused(5, "process " + zombie + " has exited", pin, "--map", pin.toString(), "--to-pid", Long.toString(zombie));
            } finally {
                parent.destroyForcibly().waitFor();
            }

            Cli.Result nobody = Cli.runAsNobody("migrate", "--map", pin.toString(), "--to-cgroup", dst);
            assertEquals(3, nobody.exit(), nobody.err());
            assertEquals(m.id(0), Kernel.idAt(pin));
        }
        Files.delete(pin);
        Files.delete(queue);
    }

    private List<MigrationEvent> history() {
        return MigrationHistory.read(runDir.resolve("migrations.jsonl"));
    }

    /** The kernel's thread creator: a kernel thread, in the root memcg, in any pid namespace that shows it. */
    private static long kthreadd() throws Exception {
        try (var procs = Files.list(Path.of("/proc"))) {
            for (Path p : procs.filter(d -> d.getFileName().toString().matches("\\d+")).toList()) {
                try {
                    if (Files.readString(p.resolve("comm")).strip().equals("kthreadd"))
                        return Long.parseLong(p.getFileName().toString());
                } catch (java.io.IOException gone) {
                    // exited meanwhile
                }
            }
        }
        throw new AssertionError("no kthreadd in /proc");
    }

    @Test
    void targetWithoutRoomIsRefusedAndTheOwnMemcgIsANoop() throws Exception {
        Path pin = cg.pin("big");
        try (MapMaker.Maps m = MapMaker.run(cg, src, false, spec("hash", 8, 64, 200_000, "big").pin(pin))) {
            String tiny = cg.child("tiny");
            cg.setLimit(tiny, 4 << 20);
            refused(7, "has ", pin, "--map", pin.toString(), "--to-cgroup", tiny);

            Cli.Result same = Kernel.migrate(runDir, null, "--map", pin.toString(), "--to-cgroup", src);
            assertEquals(0, same.exit(), same.err());
            assertTrue(same.out().contains("already charged"), same.out());
            assertEquals(m.id(0), Kernel.idAt(pin));
        }
        Files.delete(pin);
    }

    /**
     * In a private cgroup namespace /proc/self/cgroup says "/" while the mount shows the host's tree: the
     * helper used to move itself "back" to "/", the host's root memcg, after creating the twin. The namespace
     * is made from a child cgroup, so that its root is not the real root even where the tests run in the root
     * cgroup (the VM stage).
     */
    @Test
    void inAPrivateCgroupNamespaceTheHelperMovesNowhereAndTheOldMapStays() throws Exception {
        Path pin = cg.pin("cgns");
        try (MapMaker.Maps m = MapMaker.run(cg, src, false, spec("hash", 8, 64, 1000, "cgns").pin(pin))) {
            Path procs = cg.hierarchy().dir(cg.child("cgns")).resolve("cgroup.procs");
            List<String> cmd = new ArrayList<>(List.of("sh", "-c", "echo $$ > " + procs + " && exec \"$@\"", "sh", "unshare", "--cgroup"));
            cmd.addAll(Kernel.migrateCommand(runDir, null, "--map", pin.toString(),
                    "--to-cgroup", cg.hierarchy().dir(dst).toString()));
            Cli.Result r = Cli.exec(cmd, null);
            assertEquals(8, r.exit(), r.out() + r.err());
            assertTrue(r.err().contains("private cgroup namespace"), r.err());
            assertEquals(m.id(0), Kernel.idAt(pin), "the old map is still pinned");
        }
    }

    @Test
    @HostOnly // the refusal; the holder detection it rests on is HoldersIT's, in the VM
    void mapsUsedDirectlyAreRefusedNamingTheirHolders() throws Exception {
        Path held = cg.pin("held");
        try (MapMaker.Maps m = MapMaker.run(cg, src, true, spec("hash", 8, 8, 100, "held").pin(held))) {
            // Named with who runs it: its command line (cut, a class path is long), user and age.
            refused(6, "used directly by process " + m.pid() + " (" + Cli.java().getFirst() + " -", held, "--map", held.toString(), "--to-cgroup", dst);
            refused(6, "..., user root (uid 0), running ", held, "--map", held.toString(), "--to-cgroup", dst);
        }
        Files.delete(held);
        Path progPin = cg.pin("prog"), used = cg.pin("used");
        try (BpfObject obj = BpfObject.load("test_counter")) {
            int progId = ProgFd.ids().stream().filter(id -> {
                try (ProgFd p = ProgFd.byId(id)) {
                    return p.info().name().equals("count");
                }
            }).reduce((a, b) -> b).orElseThrow();
            try (ProgFd p = ProgFd.byId(progId)) {
                p.pin(progPin);
                try (MapFd misses = MapFd.byId(p.info().mapIds().getLast())) {
                    misses.pin(used);
                }
            }
            refused(5, "is a pinned program, not a map", null, "--map", progPin.toString(), "--to-cgroup", dst);
            refused(6, "program " + progId + " (count)", used, "--map", used.toString(), "--to-cgroup", dst);
            Files.delete(progPin);
            Files.delete(used);
        }
    }

    /**
     * The helper killed by SIGKILL while it creates the twin (kill -9, the OOM killer, a container teardown while
     * it sits in the target) is a failed create: exit 8, one line, the old map untouched, nothing left behind.
     */
    @HostOnly // process supervision; the helper's create in a v2 memcg is every migration's
    @ParameterizedTest(name = "helper killed at {0}")
    @ValueSource(strings = {"helper", "helper_pinned"})
    void helperKilledMidCreateIsAFailedCreateAndTheOldMapStays(String step) throws Exception {
        Path pin = cg.pin("killed_" + step);
        int id;
        try (MapMaker.Maps m = MapMaker.run(cg, src, false, spec("hash", 8, 64, 1000, "killed").pin(pin))) {
            id = m.id(0);
        }
        Map<String, String> before;
        try (MapFd f = Kernel.open(pin)) {
            Kernel.fill(f, 500, 3);
            before = Kernel.dump(f);
        }
        Cli.Result r;
        try (PausePoints pause = new PausePoints()) {
            var run = Cli.start(pause.command(step,
                    Kernel.migrateCommand(runDir, null, "--map", pin.toString(), "--to-cgroup", dst)), null);
            PausePoints.kill9(pause.await());
            r = run.get(120, TimeUnit.SECONDS);
        }
        assertEquals(8, r.exit(), r.out() + r.err());
        String err = r.err().strip();
        assertFalse(err.contains("\n"), "one line: " + err);
        assertTrue(err.startsWith("bpfcharge: ") && err.contains("killed by signal 9") && err.contains("untouched"), err);
        assertEquals(id, Kernel.idAt(pin), "the old map is still pinned");
        assertEquals(cg.hierarchy().id(src), Kernel.chargedTo(id));
        try (MapFd f = Kernel.open(pin)) {
            assertEquals(before, Kernel.dump(f));
        }
        assertEquals(Result.ROLLED_BACK, MigrationHistory.read(runDir.resolve("migrations.jsonl")).getLast().result());
        Files.delete(pin);
    }

    /** A state directory where the baseline cannot go: one line, exit 4, before anything changed. */
    @Test
    @HostOnly // argument checking, before any kernel work
    void aBaselineDirectoryThatCannotBeMadeIsOneLineExit4AndChangesNothing() throws Exception {
        Path pin = cg.pin("nostate");
        int id;
        try (MapMaker.Maps m = MapMaker.run(cg, src, false, spec("hash", 8, 8, 64, "nostate").pin(pin))) {
            id = m.id(0);
        }
        List<String> cmd = new ArrayList<>(List.of("env", "BPFCHARGE_RUN_DIR=" + runDir, "BPFCHARGE_STATE_DIR=/proc/bpfcharge-none"));
        cmd.addAll(Cli.command("migrate", "--map", pin.toString(), "--to-cgroup", dst));
        Cli.Result r = Cli.exec(cmd, null);
        assertEquals(4, r.exit(), r.out() + r.err());
        String err = r.err().strip();
        assertFalse(err.contains("\n"), "one line: " + err);
        assertTrue(err.startsWith("bpfcharge: cannot make the baseline directory") && err.contains("BPFCHARGE_STATE_DIR"), err);
        assertEquals(id, Kernel.idAt(pin), "the map is still pinned");
        assertEquals(cg.hierarchy().id(src), Kernel.chargedTo(id));
        Files.delete(pin);
    }

    /**
     * A baseline file whose removal a crash cut short (killed after the journal named the settling pass's file,
     * before the copy's was removed) goes when the migration ends: no journal names it, so nothing else would.
     */
    @Test
    @HostOnly // file bookkeeping; the settling around it is MigrateIT's
    void aBaselineFileACrashLeftUnnamedGoesWhenTheMigrationEnds() throws Exception {
        Path pin = cg.pin("leftbase");
        MapMaker.run(cg, src, false, spec("hash", 8, 8, 100, "leftbase").pin(pin)).close();
        try (PausePoints pause = new PausePoints()) {
            var run = Cli.start(pause.command("reconciled",
                    Kernel.migrateCommand(runDir, null, "--map", pin.toString(), "--to-cgroup", dst)), null);
            long pid = pause.await();
            Path pass;
            try (var files = Files.walk(runDir)) {
                pass = files.filter(f -> f.getFileName().toString().matches("baseline-[0-9]+-[^-]+-1\\.bin")).findFirst()
                        .orElseThrow(() -> new AssertionError("no settling pass's baseline at 'reconciled'"));
            }
            Files.writeString(pass.resolveSibling(pass.getFileName().toString().replace("-1.bin", ".bin")), "copy");
            pause.release(pid);
            Cli.Result r = run.get(120, TimeUnit.SECONDS);
            assertEquals(0, r.exit(), r.out() + r.err());
        }
        assertEquals(List.of(), Kernel.runFilesLeft(runDir));
        Files.delete(pin);
    }

    /** A crash after the swap whose replacement its owner then removed must not wedge later migrations. */
    @Test
    @HostOnly // journal logic; the migration it ends with is MigrateIT's standalone case
    void staleJournalWhoseReplacementIsGoneIsDropped() throws Exception {
        Path pin = cg.pin("stale"), other = cg.pin("stale_other");
        MapMaker.run(cg, src, false, spec("hash", 4, 8, 100, "stale").pin(pin), spec("hash", 4, 8, 100, "stale2").pin(other))
                .close();
        Cli.Result crashed = Kernel.migrate(runDir, "swapped", "--map", pin.toString(), "--to-cgroup", dst);
        assertEquals(Crash.EXIT, crashed.exit(), crashed.out() + crashed.err());
        // The owner removes its map, temporary names and all: the journal's replacement no longer exists.
        Files.delete(pin);
        for (String left : Kernel.leftovers(cg.pinDir())) Files.delete(cg.pinDir().resolve(left));
        Cli.Result next = Kernel.migrate(runDir, null, "--map", other.toString(), "--to-cgroup", dst);
        assertEquals(0, next.exit(), next.out() + next.err());
        assertTrue((next.out() + next.err()).contains("no longer exists"), next.out());
        assertEquals(cg.hierarchy().id(dst), Kernel.chargedTo(Kernel.idAt(other)));
        Files.delete(other);
    }

    /**
     * Killed just after the pin was renamed to the replacement, so the rerun's --map PIN names the replacement;
     * the rerun's recovery then gives the map back (something holds the old one). The request must follow the
     * map back to the old id, not end with "map N was freed meanwhile" (exit 5, torture seed 900900 iteration 20).
     */
    @Test
    @HostOnly // journal logic
    void aRerunNamingTheReplacementByItsPinFollowsTheMapBack() throws Exception {
        Path pin = cg.pin("followback");
        int oldId;
        try (MapMaker.Maps m = MapMaker.run(cg, src, false, spec("hash", 4, 8, 100, "followback").pin(pin))) {
            oldId = m.id(0);
        }
        String[] args = {"--map", pin.toString(), "--to-cgroup", dst, "--strategy", "swap-backfill"};
        Cli.Result crashed = Kernel.migrate(runDir, "swap", args);
        assertEquals(Crash.EXIT, crashed.exit(), crashed.out() + crashed.err());
        int twin = Kernel.idAt(pin);
        assertTrue(twin != oldId, "the pin names the replacement after the crash");
        Cli.Result held;
        try (MapFd holder = MapFd.byId(oldId)) { // something still holds the old map: the recovery gives it back
            held = Kernel.migrate(runDir, null, args);
        }
        assertTrue((held.out() + held.err()).contains("rolled back the interrupted migration of map " + oldId), held.out() + held.err());
        assertEquals(6, held.exit(), "refused (held), not 'freed meanwhile': " + held.out() + held.err());
        assertEquals(oldId, Kernel.idAt(pin), "the old map is back at the pin");
        Cli.Result again = Kernel.migrate(runDir, null, args);
        assertEquals(0, again.exit(), again.out() + again.err());
        assertEquals(cg.hierarchy().id(dst), Kernel.chargedTo(Kernel.idAt(pin)));
        Files.delete(pin);
    }

    /** kill -9 (an injected halt) at each step, then the same command again: one live copy with all data. */
    @HostOnly // journal logic, not kernel behaviour; 36 JVM starts
    @ParameterizedTest(name = "crash at {0}, {1}")
    @CsvSource({"journal,copy-swap", "helper,copy-swap", "helper_pinned,copy-swap", "created,copy-swap",
            "copy,copy-swap", "copied,copy-swap", "swap,copy-swap", "swapped,copy-swap", "reconciled,copy-swap",
            "copied,swap-backfill", "swap,swap-backfill", "swapped,swap-backfill"})
    void crashAtAnyStepThenRerunEndsWithOneCompleteCopy(String step, String strategy) throws Exception {
        Path outerPin = cg.pin("c_outer_" + step + "_" + strategy), innerPin = cg.pin("c_inner_" + step + "_" + strategy);
        int innerId;
        try (MapMaker.Maps m = MapMaker.run(cg, src, false, spec("hash", 4, 8, 20_000, "c_inner").pin(innerPin),
                spec("array_of_maps", 4, 4, 2, "c_outer").pin(outerPin).outerOfPrevious())) {
            innerId = m.id(0);
        }
        Map<String, String> before;
        try (MapFd inner = Kernel.open(innerPin)) {
            Kernel.fill(inner, 10_000, 5); // more than one batch, so "copy" crashes mid-copy
            before = Kernel.dump(inner);
        }
        String[] args = {"--map", "id:" + innerId, "--to-cgroup", dst, "--strategy", strategy};
        Cli.Result crashed = Kernel.migrate(runDir, step, args);
        assertEquals(Crash.EXIT, crashed.exit(), "crashed at " + step + ": " + crashed.out() + crashed.err());
        Cli.Result again = Kernel.migrate(runDir, null, args);
        assertEquals(0, again.exit(), again.out() + again.err());

        int now = Kernel.idAt(innerPin);
        assertEquals(now, MigrateIT.slot0(outerPin), "slot and pin hold the same map");
        assertTrue(now != innerId);
        assertFalse(Kernel.alive(innerId), "the old map is gone");
        assertEquals(cg.hierarchy().id(dst), Kernel.chargedTo(now));
        try (MapFd neu = Kernel.open(innerPin)) {
            assertEquals(before, Kernel.dump(neu), "all data");
        }
        Files.delete(innerPin);
        Files.delete(outerPin);
    }
}
