package io.bpfcharge.agent;

import io.bpfcharge.host.Processes;
import io.bpfcharge.hook.HookIT;
import io.bpfcharge.inventory.Inventory;
import io.bpfcharge.metrics.Daemon;
import io.bpfcharge.metrics.Scrape;
import io.bpfcharge.testing.KernelTest;
import io.bpfcharge.testing.MapMaker;
import io.bpfcharge.testing.TestCgroups;
import io.bpfcharge.testing.TimeScale;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static io.bpfcharge.testing.MapMaker.spec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The node agent on containers recorded as crun records them (a status file and a config.json per container
 * under a state root of the test's own) whose init processes are real processes in test memcgs, against real
 * maps: conflicting claims, and a kill -9 of the agent in the middle of a migration.
 */
@KernelTest
class AgentIT {
    static final Duration WAIT = TimeScale.of(Duration.ofSeconds(30));

    private final HttpClient http = HttpClient.newHttpClient();
    private TestCgroups cg;
    private Path tmp, roots, run;

    @BeforeEach
    void setUp() throws IOException {
        cg = new TestCgroups();
        tmp = Files.createTempDirectory("bpfcharge-agent");
        roots = Files.createDirectories(tmp.resolve("crun"));
        run = Files.createDirectories(tmp.resolve("run"));
    }

    @AfterEach
    void tearDown() throws IOException {
        cg.close();
        AgentCrunIT.deleteTree(tmp);
    }

    /** A "container": a real process in {@code cgroup}, recorded under the state root as crun does. */
    private Process container(String id, String cgroup, String claim) throws IOException {
        Process p = HookIT.container(cg, cgroup);
        RuntimeRootsTest.crun(roots, id, p.pid(), Processes.startTicks(p.pid()),
                "{\"ociVersion\":\"1.0.2\",\"annotations\":{\"io.bpfcharge.maps\":\"" + claim + "\"}}");
        return p;
    }

    private Daemon agent(Path log, Map<String, String> env, String... more) throws IOException, InterruptedException {
        Map<String, String> all = new java.util.HashMap<>(env);
        all.put("BPFCHARGE_RUN_DIR", run.toString());
        all.putIfAbsent("BPFCHARGE_STATE_DIR", run.toString()); // origins.json and baselines stay private too
        List<String> args = new java.util.ArrayList<>(List.of("--recharge", "--runtime-root", roots.toString(), "--recharge-interval", "1"));
        args.addAll(List.of(more));
        return new Daemon(all, ProcessBuilder.Redirect.appendTo(log.toFile()), args.toArray(String[]::new));
    }

    @Test
    void aDryRunLogsAndCountsWhatItWouldMigrateOnceAndChangesNothing() throws Exception {
        String src = cg.child("src"), dst = cg.child("dst");
        Path pin = cg.pin("dry");
        MapMaker.run(cg, src, false, spec("hash", 8, 64, 1024, "agent_dry").pin(pin)).close();
        container("ctr", dst, pin.toString());
        Path log = tmp.resolve("agent.log");
        try (Inventory inv = new Inventory(cg.hierarchy()); Daemon agent = agent(log, Map.of(), "--recharge-dry-run")) {
            awaitLines(log, l -> l.contains(": dry run: would migrate from " + src + " to " + dst), 1);
            awaitReconciles(agent, 3);
            assertEquals(1, Files.readAllLines(log).stream().filter(l -> l.contains("(agent_dry)")).count(), Files.readString(log));
            assertEquals(src, AgentCrunIT.memcg(inv.scan(), pin), "a dry run changes nothing");
            Scrape s = scrape(agent);
            assertEquals(1, s.value("bpfcharge_recharges_total", "result", "dry_run"));
            assertEquals(0, s.value("bpfcharge_recharges_total", "result", "migrated"));
            assertEquals(List.of(), journals(), "no migration started");
        }
    }

    @Test
    void aPinClaimedByTwoRunningContainersIsAConflictAndMovesOnlyOnceOneClaimRemains() throws Exception {
        String src = cg.child("src"), a = cg.child("a"), b = cg.child("b");
        Path pin = cg.pin("shared");
        MapMaker.run(cg, src, false, spec("hash", 8, 64, HookIT.ENTRIES, "agent_shared").pin(pin)).close();
        HookIT.fill(pin, HookIT.ENTRIES, 64);
        container("ctr-a", a, pin.toString());
        Process ctrB = container("ctr-b", b, pin.toString());
        Path log = tmp.resolve("agent.log");
        try (Inventory inv = new Inventory(cg.hierarchy()); Daemon agent = agent(log, Map.of())) {
            awaitLines(log, l -> l.contains(": conflict: "), 2);
            awaitReconciles(agent, 3);
            List<String> conflicts = Files.readAllLines(log).stream().filter(l -> l.contains(": conflict: ")).toList();
            assertEquals(2, conflicts.size(), "one line per claimant, once: " + conflicts);
            assertTrue(conflicts.stream().anyMatch(l -> l.contains("container ctr-a:") && l.contains("also claimed by container ctr-b in " + b)), conflicts.toString());
            assertEquals(src, AgentCrunIT.memcg(inv.scan(), pin), "nothing migrated while two containers claim it");
            Scrape s = scrape(agent);
            assertEquals(2, s.value("bpfcharge_recharges_total", "result", "conflict"));
            assertEquals(0, s.value("bpfcharge_recharges_total", "result", "migrated"));
            assertEquals(2, s.value("bpfcharge_containers", "root", roots.toString()));

            // Container b stops (its state directory stays behind, its process is gone): a alone claims the pin.
            ctrB.destroyForcibly().waitFor();
            awaitCharged(inv, pin, a, log);
            HookIT.assertFilled(pin, HookIT.ENTRIES, 64);
            assertEquals(1, scrape(agent).value("bpfcharge_containers", "root", roots.toString()));
        }
    }

    @Test
    void anAgentKilledInTheMiddleOfAMigrationConvergesWhenItRestarts() throws Exception {
        String src = cg.child("src"), dst = cg.child("dst");
        Path pin = cg.pin("map");
        MapMaker.run(cg, src, false, spec("hash", 8, 64, HookIT.ENTRIES, "agent_killed").pin(pin)).close();
        HookIT.fill(pin, HookIT.ENTRIES, 64);
        container("ctr", dst, pin.toString());
        Path log = tmp.resolve("agent.log");
        // Halted at the swap without any cleanup, as kill -9 leaves a process: the pin already names the replacement.
        Process killed;
        try (Daemon first = agent(log, Map.of("BPFCHARGE_CRASH_AT", "swapped"))) {
            killed = first.process();
            assertTrue(killed.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS), "the agent did not reach the swap");
            assertEquals(137, killed.exitValue());
        }
        assertFalse(journals().isEmpty(), "the interrupted migration's journal");
        try (Inventory inv = new Inventory(cg.hierarchy()); Daemon second = agent(log, Map.of())) {
            awaitLines(log, l -> l.contains("finished the interrupted migration"), 1);
            awaitCharged(inv, pin, dst, log);
            HookIT.assertFilled(pin, HookIT.ENTRIES, 64);
            assertEquals(List.of(), journals(), "journal finished");
            try (Stream<Path> pins = Files.list(cg.pinDir())) {
                assertEquals(List.of(pin), pins.toList(), "no temporary or keep-alive pin left");
            }
            assertFalse(Files.readString(log).contains(": failed: "), Files.readString(log));
        }
    }

    private List<Path> journals() throws IOException {
        try (Stream<Path> s = Files.list(run)) {
            return s.filter(p -> p.getFileName().toString().startsWith("journal-")).toList();
        }
    }

    static void awaitCharged(Inventory inv, Path pin, String target, Path log) throws InterruptedException, IOException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!AgentCrunIT.memcg(inv.scan(), pin).equals(target)) {
            if (System.nanoTime() > deadline) fail(pin + " not charged to " + target + "; agent log:\n" + Files.readString(log));
            Thread.sleep(100);
        }
    }

    static void awaitLines(Path log, java.util.function.Predicate<String> line, int n) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (Files.readAllLines(log).stream().filter(line).count() < n) {
            if (System.nanoTime() > deadline) fail("expected " + n + " such lines; agent log:\n" + Files.readString(log));
            Thread.sleep(100);
        }
    }

    /** Waits until the agent has run {@code more} reconcile passes after this call: what it would do again, it did. */
    static void awaitReconciles(Daemon d, int more) throws IOException, InterruptedException {
        String passes = "bpfcharge_recharge_reconciles_total";
        double until = AgentCrunIT.scrape(d).value(passes) + more;
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (AgentCrunIT.scrape(d).value(passes) < until) {
            if (System.nanoTime() > deadline) fail("the agent ran fewer than " + more + " reconciles in " + WAIT.toSeconds() + " s");
            Thread.sleep(100);
        }
    }

    private Scrape scrape(Daemon d) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(d.uri("/metrics")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return Scrape.parse(r.body());
    }
}
