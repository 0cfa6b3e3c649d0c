package io.bpfcharge.inventory;

import io.bpfcharge.bpf.InventoryIterators;
import io.bpfcharge.testing.KernelTest;
import io.bpfcharge.testing.MapMaker;
import io.bpfcharge.testing.TestCgroups;
import org.junit.jupiter.api.Test;

import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;

import static io.bpfcharge.testing.MapMaker.spec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** Which processes hold a map fd, as the map_holders iterator (bpf/inventory.bpf.c) finds them in the kernel. */
@KernelTest
class HoldersIT {
    /** The process's name comes from the kernel's task, as /proc/PID/comm shows it. */
    @Test
    void aProcessHoldingAMapFdIsFoundWithItsName() throws Exception {
        Path dir = Files.createTempDirectory("holders");
        try (TestCgroups cg = new TestCgroups(); Inventory inventory = new Inventory(cg.hierarchy());
             MapMaker.Maps held = MapMaker.holdAs("map-keeper", dir, cg, cg.child("held"),
                     spec("array", 4, 8, 16, "holders_it"))) {
            MapRecord m = inventory.scan().map(held.id(0)).orElseThrow();
            assertEquals(List.of(new MapRecord.ProcessHolder(held.pid(), "map-keeper")), m.processes());
            assertEquals("map-keeper", Files.readString(Path.of("/proc/" + held.pid() + "/comm")).strip());
        } finally {
            Files.deleteIfExists(dir.resolve("map-keeper"));
            Files.delete(dir);
        }
    }

    /**
     * A map fd is an anonymous inode named "bpf-map"; a regular file of that name is not one. Matched by name
     * alone, this process would hold "map 0" (the id read from a file that has no map behind it).
     */
    @Test
    void aRegularFileNamedBpfMapIsNotAMapFd() throws Exception {
        Path dir = Files.createTempDirectory("holders");
        Path file = dir.resolve("bpf-map");
        try (FileChannel open = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             InventoryIterators iterators = InventoryIterators.open()) {
            Map<Integer, List<InventoryIterators.Holder>> holders = iterators.holders();
            assertFalse(holders.containsKey(0), "map id 0 does not exist, yet has holders: " + holders.get(0));
        } finally {
            Files.deleteIfExists(file);
            Files.delete(dir);
        }
    }
}
