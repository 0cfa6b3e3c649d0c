package io.bpfcharge.migrate;

import io.bpfcharge.bpf.BpfObject;
import io.bpfcharge.bpf.FdInfo;
import io.bpfcharge.bpf.MapFd;
import io.bpfcharge.testing.Cli;
import io.bpfcharge.testing.HostOnly;
import io.bpfcharge.testing.MapMaker;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static io.bpfcharge.testing.MapMaker.spec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * bpf/test_counter.bpf.c looks up slot 0 of its outer map and increments a counter in the inner map; other
 * threads run it through BPF_PROG_TEST_RUN (with repeat) during the whole migration. With --merge sum the
 * new inner map must end up holding exactly one count per run, and no run may miss the inner map.
 */
@HostOnly // a merge under concurrent BPF writers; the v2 VM runs the merge with a writer in MigrateWritersIT
class MigrateConcurrencyIT extends MigrationTestBase {
    private static final int THREADS = 2, REPEAT = 500;


    @ParameterizedTest(name = "{0}")
    @CsvSource({"copy-swap", "swap-backfill"})
    void sumMergeLosesNoCountAndNoLookupMisses(String strategy) throws Exception {
        Path innerPin = cg.pin("cnt_" + strategy);
        int innerId;
        try (MapMaker.Maps m = MapMaker.run(cg, src, false, spec("hash", 4, 8, 64, "cnt_inner").pin(innerPin))) {
            innerId = m.id(0);
        }
        try (BpfObject prog = BpfObject.load("test_counter");
             MapFd outer = MapFd.byId(FdInfo.read(prog.mapFd("outer")).mapId());
             MapFd misses = MapFd.byId(FdInfo.read(prog.mapFd("misses")).mapId())) {
            ByteBuffer zero = ByteBuffer.allocate(4);
            try (MapFd inner = Kernel.open(innerPin)) {
                outer.setInnerMap(zero, inner);
            }
            Files.delete(innerPin); // the slot is the inner map's only reference, as in a real map-in-map layout
            ByteBuffer packet = ByteBuffer.allocateDirect(64);
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong runs = new AtomicLong();
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                threads.add(Thread.ofPlatform().start(() -> {
                    while (!stop.get()) {
                        prog.testRun("count", REPEAT, packet, null);
                        runs.addAndGet(REPEAT);
                    }
                }));
            }
            awaitMore(runs, 0); // the program writes before the migration starts
            // The workload threads keep every CPU busy; a higher priority gives the migration its share sooner
            // (under emulation it took most of a minute), while they keep running beside it.
            List<String> migrate = new ArrayList<>(List.of("nice", "-n", "-10"));
            migrate.addAll(Kernel.migrateCommand(runDir, null, "--map", "id:" + innerId, "--to-cgroup", dst,
                    "--strategy", strategy, "--merge", "sum"));
            Cli.Result r = Cli.exec(migrate, null);
            awaitMore(runs, runs.get()); // and after it ended, into the twin
            stop.set(true);
            for (Thread t : threads) t.join();
            assertEquals(0, r.exit(), r.out() + r.err());

            int newId = outer.innerMapId(zero).orElseThrow();
            assertTrue(newId != innerId, "swapped");
            assertEquals(cg.hierarchy().id(dst), Kernel.chargedTo(newId));
            long sum = 0;
            try (MapFd neu = MapFd.byId(newId)) {
                for (String v : Kernel.dump(neu).values())
                    sum += ByteBuffer.wrap(java.util.HexFormat.of().parseHex(v)).order(ByteOrder.nativeOrder()).getLong();
            }
            assertTrue(runs.get() > 10L * REPEAT, "the workload ran during the migration: " + runs.get());
            assertEquals(runs.get(), sum, "every run counted exactly once");
            ByteBuffer missed = ByteBuffer.allocate(8).order(ByteOrder.nativeOrder());
            assertTrue(misses.lookup(zero, missed));
            assertEquals(0, missed.getLong(0), "runs that found no inner map");
            assertTrue(!Kernel.alive(innerId));
        }
        assertEquals(List.of(), Kernel.leftovers(cg.pinDir()));
        assertEquals(List.of(), Kernel.leftovers(Path.of("/sys/fs/bpf")));
    }

    /** Waits until the workload ran the program more than {@code than} times (bounded: the threads never stop on their own). */
    private static void awaitMore(AtomicLong runs, long than) throws InterruptedException {
        for (long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60); runs.get() <= than; Thread.sleep(5))
            if (System.nanoTime() > end) throw new AssertionError("the workload ran the program no more than " + than + " times in 60 s");
    }
}
