package io.bpfcharge.migrate;

import io.bpfcharge.bpf.MapFd;
import io.bpfcharge.testing.Cli;
import io.bpfcharge.testing.HostOnly;
import io.bpfcharge.testing.MapMaker;
import io.bpfcharge.testing.PausePoints;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

import static io.bpfcharge.testing.MapMaker.spec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A swap-backfill + overwrite migration that something still holds is given back (exit 8), and the old map
 * must then hold every value it held, every write made to the replacement through the pin meanwhile, and
 * every write made to the old map after the swap back (newer than the replacement's, so it stays). The steps
 * are pinned with BPFCHARGE_PAUSE_AT, so each case takes the same path every run: given back before any
 * settling pass (the holder opens the old map at {@code swapped}) or after one ({@code reconciled}).
 */
@HostOnly // the rollback's settling logic; MigrateWritersIT's pin writer takes backfill through the VM
class MigrateGiveBackIT extends MigrationTestBase {
    private static final int MAX = 4096, PREFILL = 1000;
    /** Keys the test writes: one only through the replacement, one through both (the old map's last), one prefilled. */
    private static final int ONLY_NEW = 2000, BOTH = 2001, PREFILLED = 5;

    @ParameterizedTest(name = "{0}, held from {1}")
    @CsvSource({"array,swapped", "array,reconciled", "hash,swapped", "hash,reconciled"})
    void givenBackMapHoldsEveryValueAndTheNewestWrite(String type, String step) throws Exception {
        Path pin = cg.pin("gb_" + type + "_" + step);
        int oldId;
        try (MapMaker.Maps m = MapMaker.run(cg, src, false, spec(type, 4, 8, MAX, "gb_" + type.charAt(0)).pin(pin))) {
            oldId = m.id(0);
        }
        Map<String, String> expected = new TreeMap<>();
        try (MapFd map = Kernel.open(pin)) {
            for (int k = 0; k < PREFILL; k++) put(map, k, k % 3 == 0 ? 0 : k * 1_000_003L + 7); // zeros are data too
            expected.putAll(Kernel.dump(map));
        }
        Cli.Result r;
        MapFd holder = null;
        try (PausePoints pause = new PausePoints()) {
            CompletableFuture<Cli.Result> run = CompletableFuture.supplyAsync(() -> {
                try {
                    return Kernel.migratePausedAt(runDir, pause, step + ",unswapped", "--map", pin.toString(),
                            "--to-cgroup", dst, "--strategy", "swap-backfill", "--merge", "overwrite");
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            long pid = pause.await();
            holder = MapFd.byId(oldId); // held past the migration's wait: it must give the map back
            try (MapFd twin = Kernel.open(pin)) {
                assertTrue(twin.info().id() != oldId, "the replacement is at the pin at " + step);
                put(twin, ONLY_NEW, 1);
                put(twin, BOTH, 2);
                put(twin, PREFILLED, 3);
            }
            pause.release(pid);
            pause.await(); // unswapped: the pin holds the old map again
            try (MapFd back = Kernel.open(pin)) {
                assertEquals(oldId, back.info().id(), "the old map is back at the pin");
                put(back, BOTH, 20); // after the replacement's write: the newest, it must stay
            }
            pause.release(pid);
            r = run.get();
        } finally {
            if (holder != null) holder.close();
        }
        assertEquals(8, r.exit(), r.out() + r.err());
        assertEquals(oldId, Kernel.idAt(pin));
        expected.put(Kernel.hex4(ONLY_NEW), Kernel.hex8(1));
        expected.put(Kernel.hex4(BOTH), Kernel.hex8(20));
        expected.put(Kernel.hex4(PREFILLED), Kernel.hex8(3));
        Map<String, String> now;
        try (MapFd map = Kernel.open(pin)) {
            now = Kernel.dump(map);
        }
        if (type.equals("array")) now.values().removeIf(v -> v.equals(Kernel.hex8(0))); // unwritten slots beyond the prefill
        if (type.equals("array")) expected.values().removeIf(v -> v.equals(Kernel.hex8(0)));
        assertEquals(expected, now, "every value, every write to the replacement, the old map's newest write");
        Files.delete(pin);
    }

    private static void put(MapFd map, int key, long value) {
        map.update(ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(0, key),
                ByteBuffer.allocate(8).order(ByteOrder.nativeOrder()).putLong(0, value), MapFd.BPF_ANY);
    }
}
