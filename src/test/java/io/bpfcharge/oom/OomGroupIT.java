package io.bpfcharge.oom;

import io.bpfcharge.bpf.BpfFd;
import io.bpfcharge.bpf.MapFd;
import io.bpfcharge.testing.Await;
import io.bpfcharge.testing.CgroupV2Only;
import io.bpfcharge.testing.Cli;
import io.bpfcharge.testing.KernelTest;
import io.bpfcharge.testing.MapMaker;
import io.bpfcharge.testing.TestCgroups;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static io.bpfcharge.testing.MapMaker.spec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The kernel's memcg OOM with memory.oom.group=1 against a recharged pinned map: a restarted container's cgroup
 * (memory.max 16 MiB, oom.group) and a 13 MiB pinned map stranded in the cgroup of its previous incarnation. Its
 * process touches 6 MiB. Recharged into the container, the map leaves the process 3 MiB: every start ends in a
 * group kill that frees only the process's pages. bpfcharge's reserve refuses that move, and the container runs.
 */
@KernelTest
@CgroupV2Only
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class OomGroupIT {
    /** The map's values; the kernel charges a page or two more (the bpf_array and its vmalloc area). */
    private static final long MIB = 1 << 20, MAP = 13 * MIB, LIMIT = 16 * MIB, TOUCH = 6 * MIB;
    private static final int STARTS = 3;
    private TestCgroups cg;
    private String old, container;
    private Path pin, runDir;
    private int mapId;
    private long t0;

    @BeforeAll
    void setUp() throws Exception {
        t0 = System.nanoTime();
        cg = new TestCgroups();
        assertEquals(2, cg.hierarchy().version(), "memory.oom.group exists only on cgroup v2: run this in the VM stage");
        runDir = Files.createTempDirectory("bpfcharge-oomgroup-run");
        old = cg.child("old");
        pin = cg.pin("recharged");
        // An array (its charge is its values, plus a page or two), made by the previous incarnation, which exited:
        // stranded in "old".
        MapMaker.run(cg, old, false, spec("array", 4, 4096, (int) (MAP / 4096), "oomgroup").pin(pin));
        mapId = idAtPin();
        container = cg.child("container");
        cg.setLimit(container, LIMIT);
        Files.writeString(file(container, "memory.oom.group"), "1");
        Files.writeString(file(container, "memory.swap.max"), "0"); // a kill, not swap, is what frees memory here
        // perl's own files into the page cache, charged to this test's cgroup: the container is charged only its pages.
        assertEquals(0, new ProcessBuilder("perl", "-e", "1").start().waitFor());
    }

    @AfterAll
    void tearDown() throws IOException {
        if (cg != null) cg.close();
        if (runDir != null) try (var walk = Files.walk(runDir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }

    @Test
    @Order(1)
    void theReserveRefusesTheMoveAndTheContainerRuns() throws Exception {
        Cli.Result refused = migrate();
        assertEquals(7, refused.exit(), refused.out() + refused.err());
        assertEquals(1, refused.err().strip().lines().count(), refused.err());
        assertTrue(refused.err().contains("would be OOM-killed over and over"), refused.err());
        assertEquals(mapId, idAtPin(), "the map stays where it is");
        assertTrue(usage(old) >= MAP, "still charged to " + old);

        Run run = startContainer();
        assertEquals(new Run(0, Long.toString(TOUCH)), run, "the process touched its 6 MiB and exited");
        assertEquals(0, events(container).getOrDefault("oom_kill", 0L), events(container).toString());
        System.out.printf("OomGroupIT: map left in %s: container %d MiB limit, process touched %d MiB and exited 0, "
                + "memory.current after %d bytes, oom_kill 0%n", old, LIMIT / MIB, TOUCH / MIB, usage(container));
    }

    @Test
    @Order(2)
    void movedAnywayEveryStartEndsInAGroupKillThatFreesOnlyTheProcess() throws Exception {
        System.out.printf("OomGroupIT: %d ms since the setup began%n", (System.nanoTime() - t0) / 1_000_000);
        Cli.Result moved = migrate("--reserve", "0"); // what bpfcharge did before the reserve, and what the reserve allows off
        assertEquals(0, moved.exit(), moved.out() + moved.err());
        System.out.print(moved.out());
        System.out.printf("OomGroupIT: moved, %d ms since the setup began%n", (System.nanoTime() - t0) / 1_000_000);
        long before = usage(container);
        assertTrue(isTheMap(before), "the recharged map is charged to the container: " + before);

        List<String> kills = new ArrayList<>();
        for (int i = 1; i <= STARTS; i++) {
            Run run = startContainer();
            Map<String, Long> ev = events(container);
            assertEquals(137, run.exit(), "start " + i + " ends by SIGKILL: " + run);
            assertEquals(i, ev.get("oom_group_kill"), "start " + i + ": one group kill each: " + ev);
            // An OOM that finds the group already dying kills no one again; 6.1 counts the victim twice in
            // oom_kill (killed, then again as a member of its group).
            assertTrue(ev.get("oom") >= i && ev.get("oom_kill") >= i, "start " + i + ": " + ev);
            // Only the process's pages go: what stays charged is the map (and a few pages of kernel memory), once the
            // kernel has uncharged what it frees late (the task's stack and structs after RCU, per-CPU stocks).
            int kill = i;
            Await.until("after kill " + kill + " only the map charged", () -> isTheMap(usage(container)));
            long after = usage(container);
            assertTrue(LIMIT - after < TOUCH, "kill " + i + " freed " + (LIMIT - after) + " bytes, less than the process needs");
            kills.add((LIMIT - after) + " (current after " + after + ", " + ev + ")");
        }
        System.out.printf("OomGroupIT: memory.current %d after the move into %s (limit %d): %d starts, %d group kills, bytes "
                + "freed per kill (limit - memory.current after): %s%n", before, container, LIMIT, STARTS, STARTS, kills);

        System.out.printf("OomGroupIT: killed %d times, %d ms since the setup began%n", STARTS, (System.nanoTime() - t0) / 1_000_000);
        Cli.Result table = Cli.run("oom", "--wide", "--cgroup", cg.base());
        assertEquals(0, table.exit(), table.err());
        assertTrue(table.out().lines().anyMatch(l -> l.startsWith("repeated OOM: " + container + " is OOM-killed over and over")),
                table.out());
        java.util.regex.Matcher room = java.util.regex.Pattern.compile("a kill frees at most ([0-9.]+)M of its 16.0M limit").matcher(table.out());
        assertTrue(room.find() && Double.parseDouble(room.group(1)) < TOUCH / MIB, "less than the process needs: " + table.out());
        System.out.print(table.out());
        System.out.printf("OomGroupIT: %d ms since the setup began%n", (System.nanoTime() - t0) / 1_000_000);
    }

    private Cli.Result migrate(String... extra) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("env", "BPFCHARGE_RUN_DIR=" + runDir, "BPFCHARGE_STATE_DIR=" + runDir));
        List<String> args = new ArrayList<>(List.of("migrate", "--map", pin.toString(), "--to-cgroup", container));
        args.addAll(List.of(extra));
        cmd.addAll(Cli.command(args.toArray(String[]::new)));
        return Cli.exec(cmd, null);
    }

    /**
     * The container's process: joins the container's cgroup, then builds a string of {@link #TOUCH} bytes (one
     * buffer, every page written: 11 MB peak RSS with perl's own) and prints its length.
     */
    private record Run(int exit, String out) {}

    private Run startContainer() throws Exception {
        String procs = cg.hierarchy().procs(container).toString();
        Process p = cg.track(new ProcessBuilder("sh", "-c", "echo $$ > " + procs + " && exec perl -e 'print length(\"a\" x "
                + TOUCH + ")'").redirectErrorStream(true).start());
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the allocator did not end");
        return new Run(p.exitValue(), out.strip());
    }

    /** Usage that is the map's charge and at most a few pages more (kernel memory the kill does not free). */
    private static boolean isTheMap(long usage) { return usage >= MAP && usage - MAP < MIB; }

    private int idAtPin() {
        try (MapFd m = (MapFd) BpfFd.openPin(pin)) {
            return m.info().id();
        }
    }

    private Path file(String cgroup, String name) { return cg.hierarchy().dir(cgroup).resolve(name); }

    private long usage(String cgroup) { return cg.usage(cgroup); }

    private Map<String, Long> events(String cgroup) throws IOException {
        Map<String, Long> out = new HashMap<>();
        for (String line : Files.readAllLines(file(cgroup, "memory.events"))) {
            String[] f = line.split(" ");
            out.put(f[0], Long.parseLong(f[1]));
        }
        return out;
    }
}
