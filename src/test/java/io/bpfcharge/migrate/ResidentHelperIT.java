package io.bpfcharge.migrate;

import io.bpfcharge.BpfchargeException;
import io.bpfcharge.inventory.Inventory;
import io.bpfcharge.inventory.Snapshot;
import io.bpfcharge.testing.KernelTest;
import io.bpfcharge.testing.MapMaker;
import io.bpfcharge.testing.TestCgroups;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static io.bpfcharge.testing.MapMaker.spec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The node agent's warm map-creating helper: one process for many creates, back in its own cgroup after each. */
@KernelTest
class ResidentHelperIT {
    @Test
    void oneHelperCreatesEachTwinInsideItsTargetAndIsReplacedWhenKilled() throws Exception {
        try (TestCgroups cg = new TestCgroups(); Inventory inv = new Inventory(cg.hierarchy())) {
            String src = cg.child("src"), a = cg.child("a"), b = cg.child("b");
            int old = MapMaker.run(cg, src, false, spec("hash", 8, 64, 1000, "resident_src").pin(cg.pin("src"))).id(0);
            try (ResidentHelper helper = ResidentHelper.start()) {
                long pid = helper.pid();
                String own = cg.hierarchy().cgroupOf(pid);
                int twinA = helper.create(a, old, 0, cg.pin("twin_a"));
                int twinB = helper.create(b, old, 0, cg.pin("twin_b"));
                assertEquals(pid, helper.pid(), "one helper process serves every create");
                Snapshot s = inv.scan();
                assertEquals(a, s.map(twinA).orElseThrow().memcg().path());
                assertEquals(b, s.map(twinB).orElseThrow().memcg().path());
                assertEquals(own, cg.hierarchy().cgroupOf(pid), "the helper went back to its own cgroup after each create");

                // A failed create (no such map) also leaves it outside the target, and alive.
                assertThrows(BpfchargeException.class, () -> helper.create(a, Integer.MAX_VALUE, 0, cg.pin("none")));
                assertEquals(own, cg.hierarchy().cgroupOf(pid));

                // Killed (kill -9, the OOM killer): the next create starts a new helper.
                ProcessHandle.of(pid).orElseThrow().destroyForcibly();
                ProcessHandle.of(pid).ifPresent(p -> p.onExit().orTimeout(10, TimeUnit.SECONDS).join());
                int again = helper.create(a, old, 0, cg.pin("twin_again"));
                assertNotEquals(pid, helper.pid());
                assertEquals(a, inv.scan().map(again).orElseThrow().memcg().path());
                assertTrue(ProcessHandle.of(helper.pid()).orElseThrow().isAlive());
            }
        }
    }
}
