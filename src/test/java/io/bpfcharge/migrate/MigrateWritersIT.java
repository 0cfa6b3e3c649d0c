package io.bpfcharge.migrate;

import io.bpfcharge.bpf.MapFd;
import io.bpfcharge.testing.Cli;
import io.bpfcharge.testing.HostOnly;
import io.bpfcharge.testing.MapMaker;
import io.bpfcharge.testing.PausePoints;
import io.bpfcharge.testing.PinWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

import static io.bpfcharge.testing.MapMaker.spec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Other processes writing a map while it is migrated (PinWriter, a separate process): one that opens the pin
 * for every write, and one that opens the map at an exact step of the migration (BPFCHARGE_PAUSE_AT) and
 * keeps writing through its fd. Whatever the outcome (ok, or rolled back because a process still held the
 * old map), no write may be lost: every key inserted is there, every counter increment is counted once.
 */
class MigrateWritersIT extends MigrationTestBase {
    /** Enough that the copy takes a while: a writer's writes land in it. The step tests need no more than a few batches. */
    private static final int ENTRIES = 20_000, OPENER_ENTRIES = 5_000, MAX = 65_536;
    /**
     * This opener is a long-lived one: it holds its fd until the migration has ended. A fixed 2.5 s hold ended
     * before a slow migration (loaded, or emulated: copy and reconcile took 2.5 to 9 s) looked at the old map,
     * which then rightly ended ok where the case expects a rollback.
     */
    private static final long HOLD_MS = PinWriter.UNTIL_STOPPED;

    private record Setup(Path pin, Path outerPin, int oldId, Map<String, String> before) {
        String[] migrate(String dst, String strategy, String merge) {
            return new String[]{"--map", outerPin == null ? pin.toString() : "id:" + oldId, "--to-cgroup", dst,
                    "--strategy", strategy, "--merge", merge};
        }

        void remove() throws Exception {
            Files.deleteIfExists(pin);
            if (outerPin != null) Files.deleteIfExists(outerPin);
        }
    }

    private Setup make(String name, String kind, int entries) throws Exception {
        Path pin = cg.pin(name), outer = kind.equals("inner") ? cg.pin(name + "_o") : null;
        MapMaker.Spec map = spec("hash", 4, 8, MAX, name).pin(pin);
        int id;
        try (MapMaker.Maps m = outer == null ? MapMaker.run(cg, src, false, map)
                : MapMaker.run(cg, src, false, map, spec("array_of_maps", 4, 4, 1, name + "_o").pin(outer).outerOfPrevious())) {
            id = m.id(0);
        }
        try (MapFd fd = Kernel.open(pin)) {
            Kernel.fill(fd, entries, 11);
            return new Setup(pin, outer, id, Kernel.dump(fd));
        }
    }

    /** The map at the pin holds exactly what was there plus every write the writer made. */
    private static void nothingLost(Setup s, String mode, long writes) {
        Map<String, String> now;
        try (MapFd fd = Kernel.open(s.pin())) {
            now = Kernel.dump(fd);
        }
        if (mode.equals("insert")) {
            Map<String, String> expected = new TreeMap<>(s.before());
            for (long n = 0; n < writes; n++) expected.put(Kernel.hex4(PinWriter.INSERT_BASE + (int) n), Kernel.hex8(n));
            assertEquals(expected.size(), now.size(), "entries: " + (expected.size() - now.size()) + " lost");
            assertEquals(expected, now, "every inserted key, and nothing else changed");
        } else {
            assertEquals(s.before().size(), now.size(), "entries");
            assertEquals(writes, sum(now) - sum(s.before()), "every increment counted once");
        }
    }

    /**
     * A writer opens the pin for each write during the whole migration: the migration ends ok, nothing lost.
     * These two cases take each kind of map, each strategy and each merge through the v2 VM stage too.
     */
    @ParameterizedTest(name = "{0} {1} {2}")
    @CsvSource({"standalone,swap-backfill,insert", "inner,copy-swap,sum"})
    void writerOpeningThePinForEachWriteLosesNothing(String kind, String strategy, String mode) throws Exception {
        writerLosesNothing(kind, strategy, mode);
    }

    /** The other combinations: the same code paths as above, on the host only (each costs minutes under emulation). */
    @HostOnly
    @ParameterizedTest(name = "{0} {1} {2}")
    @CsvSource({"standalone,copy-swap,insert", "standalone,copy-swap,sum", "standalone,swap-backfill,sum",
            "inner,copy-swap,insert", "inner,swap-backfill,sum"})
    void writerOpeningThePinForEachWriteLosesNothingInEveryOtherCombination(String kind, String strategy, String mode) throws Exception {
        writerLosesNothing(kind, strategy, mode);
    }

    private void writerLosesNothing(String kind, String strategy, String mode) throws Exception {
        Setup s = make("w_" + kind.charAt(0) + strategy.charAt(0) + mode.charAt(0), kind, ENTRIES);
        Cli.Result r;
        long writes;
        try (PinWriter.Running w = PinWriter.start(mode, s.pin(), null, null, 0)) {
            String[] args = s.migrate(dst, strategy, mode.equals("sum") ? "sum" : "overwrite");
            r = againWhileTheWriterIsMidWrite(w, true, () -> Kernel.migrate(runDir, null, args));
            Thread.sleep(100);
            writes = w.stop();
        }
        assertEquals(0, r.exit(), r.out() + r.err());
        int now = Kernel.idAt(s.pin());
        assertTrue(now != s.oldId(), "replaced");
        assertEquals(cg.hierarchy().id(dst), Kernel.chargedTo(now));
        assertFalse(Kernel.alive(s.oldId()), "old map freed");
        assertTrue(writes > 10, "the writer ran: " + writes);
        nothingLost(s, mode, writes);
        s.remove();
    }

    /**
     * A process opens the map at one step of the migration (the pin, or the old map by id) and keeps writing
     * through that fd for longer than the migration waits. Holding the old map, it makes the migration roll
     * back (exit 8: the old map back at the pin and slot); holding the replacement, the migration ends ok.
     * Either way every counter increment, through its fd or through the pin, is counted exactly once.
     */
    @HostOnly // the rollback logic at each step; the writer test above runs in the VM too
    @ParameterizedTest(name = "{0} {1}: opens {3} at {2}")
    @CsvSource({"standalone,copy-swap,created,pin,8", "standalone,copy-swap,copied,pin,8",
            "standalone,copy-swap,swapped,pin,0", "standalone,copy-swap,swapped,id,8",
            "standalone,copy-swap,reconciled,id,8", "standalone,swap-backfill,copied,pin,8",
            "standalone,swap-backfill,swapped,id,8", "standalone,swap-backfill,reconciled,id,8",
            "inner,copy-swap,copied,pin,8", "inner,copy-swap,swap,pin,8", "inner,copy-swap,reconciled,id,8",
            "inner,swap-backfill,swap,pin,8", "inner,swap-backfill,reconciled,id,8"})
    void processOpeningTheMapAtAStepLosesNothing(String kind, String strategy, String step, String target, int exit)
            throws Exception {
        Setup s = make("o_" + kind.charAt(0) + strategy.charAt(0) + step + target, kind, OPENER_ENTRIES);
        Cli.Result r;
        long writes;
        try (PausePoints pause = new PausePoints(); PinWriter.Running w = PinWriter.start("sum", s.pin(), pause.dir(),
                target.equals("pin") ? s.pin().toString() : "id:" + s.oldId(), HOLD_MS)) {
            // Until the step the writer loads merge_sum for each write through the pin (seen once in a clean-clone CI run).
            r = againWhileTheWriterIsMidWrite(w, false, () -> Kernel.migratePausedAt(runDir, pause, step, s.migrate(dst, strategy, "sum")));
            writes = w.stop();
        }
        assertEquals(exit, r.exit(), r.out() + r.err());
        int now = Kernel.idAt(s.pin());
        if (exit == 8) {
            // The holder named as the message names processes: its command line (the writer's JVM), user and age.
            assertTrue(r.err().contains("rolled back") && r.err().contains("/bin/java ") && r.err().contains("user root (uid 0)"), r.err());
            assertFalse(r.err().strip().contains("\n"), "one line: " + r.err());
            assertEquals(s.oldId(), now, "the old map is back at the pin");
            assertEquals(cg.hierarchy().id(src), Kernel.chargedTo(now));
            if (s.outerPin() != null) assertEquals(s.oldId(), MigrateIT.slot0(s.outerPin()), "and in its slot");
        } else {
            assertTrue(now != s.oldId());
            assertEquals(cg.hierarchy().id(dst), Kernel.chargedTo(now));
        }
        nothingLost(s, "sum", writes);
        s.remove();
    }

    /**
     * Runs a migration again, as a user would, while the writer's own write in flight stopped it, which changes
     * nothing: a plan that sees the writer's merge_sum program loaded refuses (exit 6, naming it); and, with
     * {@code rollback}, a write that outlasts the wait for short-lived holders (a second; writes are slow under
     * emulation) rolls back (exit 8, naming the writer or its program).
     */
    private static Cli.Result againWhileTheWriterIsMidWrite(PinWriter.Running w, boolean rollback,
            java.util.concurrent.Callable<Cli.Result> migrate) throws Exception {
        String writer = "process " + w.process().pid() + " ";
        Cli.Result r = migrate.call();
        for (int again = 0; again < 5; again++) {
            boolean refused = r.exit() == 6 && r.err().contains("(merge_sum), " + writer);
            boolean rolledBack = rollback && r.exit() == 8 && (r.err().contains(writer) || r.err().contains("(merge_sum)"));
            if (!refused && !rolledBack) return r;
            System.out.println("MigrateWritersIT: again after the writer's write in flight: " + r.err().strip());
            r = migrate.call();
        }
        return r;
    }

    /** A second migrate of a map another one is migrating gets one answer, whatever the timing. */
    @Test
    @HostOnly // journal locking; no kernel behaviour
    void secondMigrationOfTheSameMapIsRefusedAsBeingMigrated() throws Exception {
        Setup s = make("twice", "standalone", OPENER_ENTRIES);
        String[] args = s.migrate(dst, "copy-swap", "overwrite");
        for (String step : new String[]{"journal", "copied", "swapped"}) {
            PausePoints pause = new PausePoints();
            var first = CompletableFuture.supplyAsync(() -> {
                try {
                    return Kernel.migratePausedAt(runDir, pause, step, args);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            long pid = pause.await();
            Cli.Result second = Kernel.migrate(runDir, null, args);
            pause.release(pid);
            pause.close();
            assertEquals(0, first.get().exit(), first.get().err());
            assertEquals(6, second.exit(), "at " + step + ": " + second.out() + second.err());
            assertTrue(second.err().contains("is being migrated by another bpfcharge process"), second.err());
            Cli.Result again = Kernel.migrate(runDir, null, "--map", s.pin().toString(), "--to-cgroup", src);
            assertEquals(0, again.exit(), again.err()); // back to the source for the next step
        }
        s.remove();
    }

    private static long sum(Map<String, String> entries) {
        long total = 0;
        for (String v : entries.values())
            total += ByteBuffer.wrap(HexFormat.of().parseHex(v)).order(ByteOrder.nativeOrder()).getLong();
        return total;
    }
}
