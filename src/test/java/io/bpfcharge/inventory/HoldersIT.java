package io.bpfcharge.inventory;

import com.fasterxml.jackson.databind.JsonNode;
import io.bpfcharge.Mappers;
import io.bpfcharge.bpf.InventoryIterators;
import io.bpfcharge.host.ProcessInfo;
import io.bpfcharge.testing.Cli;
import io.bpfcharge.testing.KernelTest;
import io.bpfcharge.testing.MapMaker;
import io.bpfcharge.testing.TestCgroups;
import org.junit.jupiter.api.Test;

import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static io.bpfcharge.testing.MapMaker.spec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which processes hold a map fd, as the map_holders iterator (bpf/inventory.bpf.c) finds them in the kernel. */
@KernelTest
class HoldersIT {
    /**
     * The process's name comes from the kernel's task, as /proc/PID/comm shows it; who runs it (user, command
     * line, start) from /proc when the scan saw it.
     */
    @Test
    void aProcessHoldingAMapFdIsFoundWithItsNameUserCommandLineAndStart() throws Exception {
        Path dir = Files.createTempDirectory("holders");
        // /proc/stat's boot time has whole seconds, so a start derived from it can be up to a second early.
        Instant before = Instant.now().minusSeconds(1);
        try (TestCgroups cg = new TestCgroups(); Inventory inventory = new Inventory(cg.hierarchy())) {
            String cgroup = cg.child("held");
            try (MapMaker.Maps held = MapMaker.holdAs("map-keeper", dir, cg, cgroup, spec("array", 4, 8, 16, "holders_it"))) {
                Instant after = Instant.now();
                MapRecord m = inventory.scan().map(held.id(0)).orElseThrow();
                assertEquals(1, m.processes().size(), m.processes().toString());
                MapRecord.ProcessHolder h = m.processes().getFirst();
                assertEquals(held.pid(), h.pid());
                assertEquals("map-keeper", h.comm());
                assertEquals("map-keeper", Files.readString(Path.of("/proc/" + held.pid() + "/comm")).strip());
                ProcessInfo p = h.process();
                assertNotNull(p, "the holder runs: its facts are read");
                assertEquals((int) Files.getAttribute(Path.of("/proc/" + held.pid()), "unix:uid"), p.uid());
                assertEquals("root", p.user(), "the tests run as root");
                // As MapMaker starts it: the java link, its options, then the class path, the class and its arguments.
                assertTrue(p.commandLine().startsWith(dir.resolve("map-keeper") + " "), p.commandLine());
                assertTrue(p.commandLine().contains(" -cp " + System.getProperty("java.class.path") + " " + MapMaker.class.getName()
                        + " " + cgroup + " hold "), p.commandLine());
                assertFalse(p.started().isBefore(before) || p.started().isAfter(after), p.started() + " not in [" + before + ", " + after + "]");
                assertTrue(h.describe().startsWith("process " + held.pid() + " (" + dir.resolve("map-keeper") + " "), h.describe());
                assertTrue(h.describe().contains(", user root (uid 0), running "), h.describe());

                // The real CLI prints the same under maps --json (and so runs OSHI's readers without JNA on its class path).
                Cli.Result r = Cli.run("maps", "--json");
                assertEquals(0, r.exit(), r.err());
                JsonNode map = null;
                for (JsonNode n : Mappers.JSON.readTree(r.out())) if (n.get("id").asInt() == held.id(0)) map = n;
                assertNotNull(map, r.out());
                JsonNode proc = map.get("holders").get("processes").get(0);
                assertEquals(held.pid(), proc.get("pid").asLong());
                assertEquals("map-keeper", proc.get("comm").asText());
                assertEquals(0, proc.get("uid").asLong());
                assertEquals("root", proc.get("user").asText());
                assertEquals(p.commandLine(), proc.get("cmdline").asText());
                assertEquals(p.started(), Instant.parse(proc.get("started").asText()));
            }
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
