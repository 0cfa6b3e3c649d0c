package io.bpfcharge.migrate;

import io.bpfcharge.bpf.Cpus;
import io.bpfcharge.bpf.MapFd;
import io.bpfcharge.testing.Cli;
import io.bpfcharge.testing.MapMaker;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static io.bpfcharge.testing.MapMaker.spec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * LRU maps evict instead of failing an insert. A full LRU map with per-CPU lists (BPF_F_NO_COMMON_LRU),
 * filled from every CPU as programs fill it, keeps only one CPU's share when written from one CPU.
 */
class MigrateLruIT extends MigrationTestBase {
    private static final int MAX = 4096, NO_COMMON_LRU = 2;
    private List<Integer> cpus;

    @BeforeAll
    void needsTwoCpus() {
        cpus = Cpus.allowed();
        assertTrue(cpus.size() >= 2, "these tests need 2 CPUs (a per-CPU LRU on one CPU cannot show the loss): " + cpus);
    }

    private Path fullPerCpuLru(String name) throws Exception {
        Path pin = cg.pin(name);
        try (MapMaker.Maps m = MapMaker.run(cg, src, false, spec("lru_hash", 4, 8, MAX, name).flags(NO_COMMON_LRU).pin(pin))) {
            assertTrue(m.id(0) > 0);
        }
        try (MapFd map = Kernel.open(pin)) {
            ByteBuffer key = ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()), val = ByteBuffer.allocate(8).order(ByteOrder.nativeOrder());
            for (int i = 0; i < MAX; i++) {
                key.putInt(0, i);
                val.putLong(0, i * 1_000_003L);
                Cpus.runOn(cpus.get(i % cpus.size()), () -> map.update(key, val, MapFd.BPF_ANY));
            }
            assertEquals(MAX, Kernel.dump(map).size(), "filled from every CPU, the map holds max_entries");
        }
        return pin;
    }

    @Test
    void fullPerCpuLruMovesWithEveryEntry() throws Exception {
        Path pin = fullPerCpuLru("lru_full");
        Map<String, String> before;
        try (MapFd old = Kernel.open(pin)) {
            before = Kernel.dump(old);
        }
        Cli.Result r = Kernel.migrate(runDir, null, "--map", pin.toString(), "--to-cgroup", dst);
        assertEquals(0, r.exit(), r.err());
        try (MapFd neu = Kernel.open(pin)) {
            Map<String, String> after = Kernel.dump(neu);
            assertEquals(MAX, after.size(), "every entry");
            assertTrue(before.equals(after), "every value");
        }
        Files.delete(pin);
    }

    @Test
    void evictionDuringTheCopyRollsBack() throws Exception {
        Path pin = fullPerCpuLru("lru_one_cpu");
        int oldId = Kernel.idAt(pin);
        Map<String, String> before;
        try (MapFd old = Kernel.open(pin)) {
            before = Kernel.dump(old);
        }
        // Allowed only CPU 0 (as a narrow cpuset would), the copy can fill one CPU's list only.
        List<String> cmd = new ArrayList<>(List.of("taskset", "-c", Integer.toString(cpus.getFirst()), "env",
                "BPFCHARGE_RUN_DIR=" + runDir, "BPFCHARGE_STATE_DIR=" + runDir));
        cmd.addAll(Cli.command(Stream.of("migrate", "--map", pin.toString(), "--to-cgroup", dst).toArray(String[]::new)));
        Cli.Result r = Cli.exec(cmd, null);
        assertEquals(8, r.exit(), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains("kept " + MAX / cpus.size() + " of the " + MAX + " entries"), r.err());
        assertTrue(r.err().contains("map " + oldId + " is untouched"), r.err());
        assertEquals(oldId, Kernel.idAt(pin), "the old map is still pinned");
        try (MapFd old = Kernel.open(pin)) {
            assertTrue(before.equals(Kernel.dump(old)), "and still holds everything");
        }
        assertEquals(cg.hierarchy().id(src), Kernel.chargedTo(oldId));
        Files.delete(pin);
    }

    @Test
    void swapBackfillIsRefusedForLru() throws Exception {
        Path pin = cg.pin("lru_backfill");
        try (MapMaker.Maps m = MapMaker.run(cg, src, false, spec("lru_hash", 4, 8, 64, "lru_bf").pin(pin))) {
            assertTrue(m.id(0) > 0);
        }
        int oldId = Kernel.idAt(pin);
        Cli.Result r = Kernel.migrate(runDir, null, "--map", pin.toString(), "--to-cgroup", dst, "--strategy", "swap-backfill");
        assertEquals(6, r.exit(), r.err());
        assertTrue(r.err().contains("use copy-swap"), r.err());
        assertEquals(oldId, Kernel.idAt(pin));
        Files.delete(pin);
    }
}
