package io.bpfcharge.agent;

import io.bpfcharge.hook.HookIT;
import io.bpfcharge.inventory.Inventory;
import io.bpfcharge.metrics.Daemon;
import io.bpfcharge.metrics.Scrape;
import io.bpfcharge.testing.Await;
import io.bpfcharge.testing.Containerd;
import io.bpfcharge.testing.KernelTest;
import io.bpfcharge.testing.MapMaker;
import io.bpfcharge.testing.Started;
import io.bpfcharge.testing.TestCgroups;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import static io.bpfcharge.agent.AgentCrunIT.BOUND;
import static io.bpfcharge.agent.AgentCrunIT.lines;
import static io.bpfcharge.testing.MapMaker.spec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The node agent against a real containerd (Debian's 1.6, runc shim v2), with no hook anywhere: the test's own
 * containerd runs the containers, `serve --recharge` reads its state directory (the shim's task bundles) and
 * the shim's runc root. Container 1's loader pins a filled hash and an inner map in a pinned hash_of_maps;
 * container 1 is deleted (runc removes its memcg: the charge moves to the parent); container 2, same annotation,
 * runs pinwriter, whose BPF program holds the OUTER map and writes through it while the agent moves the maps.
 */
@KernelTest
class AgentContainerdIT {
    static final int WRITES = 600;

    @Test
    void restartedContainersMapsAreRechargedByTheAgentFromContainerdsStateAlone() throws Exception {
        Containerd.requireTools();
        Path tmp = Files.createTempDirectory("bpfcharge-ctrd");
        TestCgroups cg = new TestCgroups();
        Daemon agent = null;
        try (Containerd ctrd = new Containerd(tmp, cg); Inventory inv = new Inventory(cg.hierarchy())) {
            String first = cg.child("first"), second = cg.child("second");
            Map<String, String> claim = Map.of("io.bpfcharge.maps", cg.pinDir() + "/*");
            Started c1 = ctrd.run(first, "app-1", claim, null, "sleep", "600");
            assertEquals(first, cg.hierarchy().cgroupOf(c1.pid()), "runc did not place container 1 in its cgroupsPath");
            Path hash = cg.pin("hash"), outer = cg.pin("outer");
            List<Integer> ids = MapMaker.run(cg, first, false, spec("hash", 8, 64, HookIT.ENTRIES, "ctrd_hash").pin(hash),
                    spec("hash", 8, 8, 4096, "ctrd_inner"), spec("hash_of_maps", 4, 4, 4, "ctrd_outer").pin(outer).outerOfPrevious()).ids();
            HookIT.fill(hash, HookIT.ENTRIES, 64);
            AgentCrunIT.fillInner(ids.get(1));
            ctrd.delete("app-1");

            Path log = tmp.resolve("agent.log");
            Path run = Files.createDirectories(tmp.resolve("run"));
            agent = new Daemon(Map.of("BPFCHARGE_RUN_DIR", run.toString(), "BPFCHARGE_STATE_DIR", run.toString()),
                    ProcessBuilder.Redirect.to(log.toFile()), "--recharge", "--runtime-root", ctrd.taskRoot().toString(),
                    "--runtime-root", ctrd.runcRoot().toString(), "--recharge-interval", "1");
            // sh stays the init: the container keeps running after pinwriter's writes, however slow the agent.
            long t0 = System.nanoTime();
            Started c2 = ctrd.run(second, "app-2", claim, cg.pinDir(), "sh", "-c",
                    "pinwriter /pins/outer 0 " + WRITES + " && exec sleep 600");
            assertEquals(second, cg.hierarchy().cgroupOf(c2.pid()), "runc did not place container 2 in its cgroupsPath");
            // What containerd 1.6 wrote, read as the agent reads it: the task bundle and runc's state, one container.
            for (Path root : List.of(ctrd.taskRoot(), ctrd.runcRoot())) {
                Container c = RuntimeRootsTest.only(new RuntimeRoots(List.of(root)).scan());
                assertEquals(List.of("app-2", c2.pid(), claim.get("io.bpfcharge.maps")),
                        List.of(c.id(), c.pid(), c.annotations().get("io.bpfcharge.maps")), root.toString());
            }
            AgentCrunIT.awaitCharged(inv, outer, List.of(hash), second, BOUND, "container 2's start", log);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            boolean writing = !lines(c2.output()).contains("done");
            System.out.printf("AgentContainerdIT: ctr run to both maps charged to container 2: %d ms (pinwriter %s)%n",
                    ms, writing ? "still writing" : "already done");
            c2.await("done", Duration.ofSeconds(30));
            HookIT.assertFilled(hash, HookIT.ENTRIES, 64);
            // Writes between copy and swap reach the twin when the settling ends: read it after the migration.
            AgentCrunIT.awaitMigrated(log, "ctrd_inner", second, 1);
            AgentCrunIT.assertInner(inv, outer, WRITES);

            // The charge moves before a migration ends (the old map's release, then the log line): wait for the lines.
            List<String> moved = List.of();
            for (long end = System.nanoTime() + BOUND.toNanos(); moved.size() < 2 && System.nanoTime() < end; Thread.sleep(100))
                moved = lines(log).stream().filter(l -> l.contains("(ctrd_hash): migrated") || l.contains("(ctrd_inner): migrated")).toList();
            assertEquals(2, moved.size(), Files.readString(log));
            assertTrue(moved.stream().allMatch(l -> l.startsWith("bpfcharge recharge: container app-2: ") && l.contains(" to " + second + " in ")),
                    moved.toString());
            // The outer map moves too when the agent saw it before pinwriter opened it; else it is in use and stays.
            // Between the two, pinwriter's program may take it after the agent's scan and before its migration:
            // that one attempt is refused (it names the program), and the next pass finds it in use.
            // A counter moves before its log line is written: wait until a scrape and the log agree.
            AtomicReference<Scrape> counted = new AtomicReference<>();
            Daemon running = agent;
            Await.until("a log line per recharge counted", Duration.ofSeconds(30), () -> {
                Scrape now = AgentCrunIT.scrape(running);
                counted.set(now);
                List<String> l = lines(log);
                return l.stream().filter(x -> x.contains(": refused: ")).count() == now.value("bpfcharge_recharges_total", "result", "refused")
                        && l.stream().filter(x -> x.contains("): migrated ")).count() == now.value("bpfcharge_recharges_total", "result", "migrated");
            });
            Scrape s = counted.get();
            List<String> refused = lines(log).stream().filter(l -> l.contains(": refused: ")).toList();
            assertEquals(refused.size(), s.value("bpfcharge_recharges_total", "result", "refused"), Files.readString(log));
            assertTrue(refused.stream().allMatch(l -> l.contains("(ctrd_outer): refused: ") && l.contains("(pinwriter)")), refused.toString());
            long movedOuter = lines(log).stream().filter(l -> l.contains("(ctrd_outer): migrated")).count();
            assertEquals(2 + movedOuter, s.value("bpfcharge_recharges_total", "result", "migrated"), Files.readString(log));
            for (String none : List.of("failed", "conflict"))
                assertEquals(0, s.value("bpfcharge_recharges_total", "result", none), none + ": " + Files.readString(log));
            assertEquals(1, s.value("bpfcharge_containers", "root", ctrd.taskRoot().toString()));
            assertEquals(0, s.value("bpfcharge_containers", "root", ctrd.runcRoot().toString()), "one container, counted once");
            assertEquals(1, s.value("bpfcharge_recharge_seconds_count"), Files.readString(log));
            System.out.printf("AgentContainerdIT: the agent's bpfcharge_recharge_seconds (first seen to charged): %.3f s%n",
                    s.value("bpfcharge_recharge_seconds_sum"));
            lines(log).stream().filter(l -> l.startsWith("bpfcharge recharge: ")).forEach(System.out::println);
        } finally {
            if (agent != null) agent.close();
            cg.close();
            AgentCrunIT.deleteTree(tmp);
        }
    }
}
