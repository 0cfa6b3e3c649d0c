package io.bpfcharge.migrate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bpfcharge.bpf.InventoryIterators;
import io.bpfcharge.migrate.MigrationRequest.Merge;
import io.bpfcharge.migrate.MigrationRequest.Strategy;
import io.bpfcharge.migrate.TortureChoice.Family;
import io.bpfcharge.migrate.TortureChoice.Fault;
import io.bpfcharge.migrate.TortureChoice.Writer;
import io.bpfcharge.testing.Cli;
import io.bpfcharge.testing.PausePoints;
import io.bpfcharge.testing.PinWriter;
import io.bpfcharge.testing.TestCgroups;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Runs one {@link TortureChoice}: makes the map, starts its writers, migrates it (with the fault, then the same
 * command again), stops the writers and checks the invariant: nothing written is lost, the exit code and JSON
 * result say where the map is and to which memcg it is charged, no temporary pin, journal or map is left.
 */
final class TortureIteration {
    enum Kind { LOST, UNTRUTHFUL, LEFTOVER, OTHER }

    record Problem(Kind kind, String text) {}

    /**
     * @param exits every run's exit code, in order
     * @param message the last run's error line (refused, rolled back), empty after a success
     * @param faultFired the fault struck (the step was reached); else the first run went on undisturbed
     * @param lost entries or counter increments lost
     */
    record Outcome(TortureChoice choice, List<Integer> exits, String message, boolean faultFired, List<Problem> problems,
                   long lost, long millis) {
        int finalExit() { return exits.getLast(); }
    }

    private record Run(Cli.Result result, boolean killed) {}

    private record Started(PinWriter.Keys keys, PinWriter.Running running) {}

    /** Above the largest prefill; each writer's keys are its own (insert n: base + n % SPAN). */
    private static final int KEY_BASE = 4096, SPAN = 8192;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final TestCgroups cg;
    private final String src, dst;
    private final Path runDir;

    TortureIteration(TestCgroups cg, String src, String dst, Path runDir) {
        this.cg = cg;
        this.src = src;
        this.dst = dst;
        this.runDir = runDir;
    }

    Outcome run(int iteration, TortureChoice c) throws Exception {
        long t0 = System.nanoTime();
        List<Problem> problems = new ArrayList<>();
        List<Integer> exits = new ArrayList<>();
        List<Started> writers = new ArrayList<>();
        boolean fired;
        long lost = 0;
        String message;
        try (TortureMap map = TortureMap.make(cg, src, "t" + iteration, c); PausePoints pause = new PausePoints()) {
            Map<String, String> before = map.dump();
            List<TortureContent.Writes> writes = new ArrayList<>();
            try {
                for (Writer w : List.of(Writer.PIN, Writer.OPENER, Writer.HOLDER)) // the holder last: its hold has begun
                    if (c.writers().contains(w)) writers.add(start(w, c, map, pause));
                map.startProgram();
                String[] args = {"--map", c.family().inner() ? "id:" + map.oldId : map.pin.toString(), "--to-cgroup", dst,
                        "--strategy", c.strategy().cliName(), "--merge", c.merge().cliName(), "--json"};
                Run first = first(c, pause, args);
                exits.add(first.result().exit());
                fired = first.killed() || first.result().exit() == Crash.EXIT;
                if (fired) {
                    if (first.result().exit() != Crash.EXIT) truth(c, map, first.result(), false, problems);
                    Cli.Result again = Kernel.migrate(runDir, null, args);
                    exits.add(again.exit());
                    truth(c, map, again, true, problems);
                    message = again.err().strip();
                } else {
                    truth(c, map, first.result(), false, problems);
                    message = first.result().err().strip();
                }
            } finally {
                for (Started s : writers) {
                    try (PinWriter.Running r = s.running()) {
                        writes.add(new TortureContent.Writes(s.keys(), r.stop()));
                    } catch (IOException e) {
                        problems.add(new Problem(Kind.OTHER, "a writer failed (its writes cannot be counted): " + e.getMessage()));
                    }
                }
            }
            long runs = map.stopProgram();
            if (map.programMisses() > 0)
                problems.add(new Problem(Kind.OTHER, map.programMisses() + " program runs found no map in the slot"));
            if (writes.size() == writers.size()) {
                TortureContent.Diff diff = TortureContent.check(map.info, c.counting(), before, map.dump(), writes, runs);
                diff.problems().forEach(p -> problems.add(new Problem(Kind.LOST, p)));
                lost = diff.lost();
            }
            leftovers(map.oldId, problems);
        }
        leftCharged(problems);
        return new Outcome(c, List.copyOf(exits), message, fired, List.copyOf(problems), lost, (System.nanoTime() - t0) / 1_000_000);
    }

    private Started start(Writer w, TortureChoice c, TortureMap map, PausePoints pause) throws IOException {
        int slot = w.ordinal(); // PIN, HOLDER, OPENER: 0, 1, 2
        PinWriter.Keys keys = new PinWriter.Keys(KEY_BASE + slot * SPAN, SPAN, w == Writer.HOLDER ? c.holderMs() : 0);
        PinWriter.Mode mode = c.counting() ? PinWriter.Mode.SUM : PinWriter.Mode.INSERT;
        PinWriter.Running r = w == Writer.OPENER
                ? PinWriter.start(mode, map.pin, keys, pause.dir(), c.openerById() ? "id:" + map.oldId : map.pin.toString(), c.openerHoldMs())
                : PinWriter.start(mode, map.pin, keys, null, null, 0);
        cg.track(r.process());
        return new Started(keys, r);
    }

    /**
     * The first run, with the fault: a kill -9 at a pause (BPFCHARGE_PAUSE_AT), or, while the opener uses the pause,
     * the injected halt (BPFCHARGE_CRASH_AT: no cleanup, as after a kill -9).
     */
    private Run first(TortureChoice c, PausePoints pause, String[] args) throws Exception {
        boolean opener = c.writers().contains(Writer.OPENER);
        String crashAt = c.fault() == Fault.KILL_BPFCHARGE && opener ? c.faultStep() : null;
        List<String> cmd = Kernel.migrateCommand(runDir, crashAt, args);
        if (opener) return new Run(Cli.exec(pause.command(c.openerStep(), cmd), null), false);
        if (c.fault() == Fault.NONE) return new Run(Cli.exec(cmd, null), false);
        var run = Cli.start(pause.command(c.faultStep(), cmd), null);
        OptionalLong paused = pause.awaitWhile(() -> !run.isDone());
        if (paused.isPresent()) PausePoints.kill9(paused.getAsLong());
        return new Run(run.get(180, TimeUnit.SECONDS), paused.isPresent());
    }

    /** Whether the exit code and JSON result of one run say where the map is and who it is charged to. */
    private void truth(TortureChoice c, TortureMap map, Cli.Result r, boolean rerun, List<Problem> problems) throws Exception {
        String run = (rerun ? "rerun" : "run") + " exit " + r.exit() + ": ";
        JsonNode j;
        try {
            j = JSON.readTree(r.out());
        } catch (IOException e) {
            problems.add(new Problem(Kind.UNTRUTHFUL, run + "stdout is not one JSON document: " + r.out() + r.err().strip()));
            return;
        }
        int atPin = map.idAtPin(), inSlot = map.idInSlot();
        if (atPin != inSlot) problems.add(new Problem(Kind.UNTRUTHFUL, run + "pin holds map " + atPin + ", slot " + inSlot));
        boolean refusedByPlan = c.family() == Family.LPM_TRIE && c.merge() == Merge.SUM
                || c.family() == Family.LRU_HASH && c.strategy() == Strategy.SWAP_BACKFILL;
        if (refusedByPlan && r.exit() != 6)
            problems.add(new Problem(Kind.UNTRUTHFUL, run + "the plan must refuse this (exit 6): " + r.err().strip()));
        switch (r.exit()) {
            case 0 -> {
                String result = j.path("result").asText();
                boolean ok = result.equals("migrated") && j.path("new_map_id").asInt() == atPin && j.path("old_map_id").asInt() == map.oldId;
                boolean noop = rerun && result.equals("unchanged") && j.path("old_map_id").asInt() == atPin;
                if (!ok && !noop) problems.add(new Problem(Kind.UNTRUTHFUL, run + "the pin holds map " + atPin + " but the result is " + j));
                if (atPin == map.oldId) problems.add(new Problem(Kind.UNTRUTHFUL, run + "the old map is still at the pin"));
                charged(run, atPin, dst, problems);
                if (!j.path("target_cgroup").asText().equals(dst))
                    problems.add(new Problem(Kind.UNTRUTHFUL, run + "target_cgroup " + j.path("target_cgroup") + ", not " + dst));
                if (!freed(map.oldId)) problems.add(new Problem(j.path("old_freed").asBoolean(true) ? Kind.UNTRUTHFUL : Kind.LEFTOVER,
                        run + "old map " + map.oldId + " still exists 10 s after the migration (old_freed " + j.path("old_freed") + ")"));
            }
            case 6, 8 -> {
                if (j.path("exit").asInt() != r.exit())
                    problems.add(new Problem(Kind.UNTRUTHFUL, run + "JSON says " + j));
                if (atPin != map.oldId)
                    problems.add(new Problem(Kind.UNTRUTHFUL, run + "the pin holds map " + atPin + ", not the old map " + map.oldId));
                else charged(run, atPin, src, problems);
            }
            default -> problems.add(new Problem(Kind.OTHER, run + "unexpected exit code: " + r.err().strip()));
        }
    }

    private void charged(String run, int mapId, String cgroup, List<Problem> problems) {
        long want = cg.hierarchy().id(cgroup), got = Kernel.chargedTo(mapId);
        if (got != want)
            problems.add(new Problem(Kind.UNTRUTHFUL, run + "map " + mapId + " is charged to cgroup id " + got + ", not " + cgroup + " (" + want + ")"));
    }

    /** The kernel frees a map after its last reference goes, in a work item: give it time. */
    private static boolean freed(int mapId) throws InterruptedException {
        for (int i = 0; i < 100; i++) {
            if (!Kernel.alive(mapId)) return true;
            Thread.sleep(100);
        }
        return false;
    }

    /**
     * Once the iteration's pins are gone, nothing may stay charged to src or dst: a twin or an old map that outlived
     * its migration (the kernel frees a map shortly after its last reference).
     */
    private void leftCharged(List<Problem> problems) throws InterruptedException {
        Set<Long> ours = Set.of(cg.hierarchy().id(src), cg.hierarchy().id(dst));
        List<String> left = List.of();
        try (InventoryIterators it = InventoryIterators.open()) {
            for (int i = 0; i < 100; i++) {
                left = it.maps().values().stream().filter(m -> ours.contains(m.cgroupId()))
                        .map(m -> m.mapId() + " (" + m.info().name() + ")").toList();
                if (left.isEmpty()) return;
                Thread.sleep(100);
            }
        }
        problems.add(new Problem(Kind.LEFTOVER, "maps still charged to src or dst 10 s after the iteration's pins went: " + left));
    }

    /** Temporary pins of this map in the private directory or the bpffs root, and journals in the run directory. */
    private void leftovers(int oldId, List<Problem> problems) throws IOException {
        for (Path dir : List.of(cg.pinDir(), Path.of("/sys/fs/bpf")))
            for (String left : Kernel.leftovers(dir))
                if (left.startsWith(Journal.TEMP_PREFIX + oldId + "_") || left.startsWith(Journal.KEEP_PREFIX + oldId + "_"))
                    problems.add(new Problem(Kind.LEFTOVER, "pin left: " + dir.resolve(left)));
        for (Path p : Kernel.runFilesLeft(runDir)) problems.add(new Problem(Kind.LEFTOVER, "journal or baseline left: " + p));
    }
}
