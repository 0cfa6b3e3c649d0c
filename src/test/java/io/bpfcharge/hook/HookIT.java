package io.bpfcharge.hook;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bpfcharge.bpf.BpfFd;
import io.bpfcharge.bpf.MapFd;
import io.bpfcharge.inventory.Inventory;
import io.bpfcharge.inventory.MapRecord;
import io.bpfcharge.inventory.Snapshot;
import io.bpfcharge.testing.Await;
import io.bpfcharge.testing.Cli;
import io.bpfcharge.testing.HostOnly;
import io.bpfcharge.testing.KernelTest;
import io.bpfcharge.testing.MapMaker;
import io.bpfcharge.testing.PausePoints;
import io.bpfcharge.testing.TestCgroups;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static io.bpfcharge.testing.MapMaker.spec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The hook as a runtime runs it, on the real kernel: maps pinned from an old container's memcg,
 * a "container" process in a fresh memcg, and that process's real state JSON on stdin.
 */
@KernelTest
public class HookIT {
    static final ObjectMapper JSON = new ObjectMapper();
    public static final int ENTRIES = 2000;

    private TestCgroups cg;

    @BeforeEach
    void cgroups() { cg = new TestCgroups(); }

    @AfterEach
    void cleanup() { cg.close(); }

    /** A process placed in {@code cgroup} before it reports ready; stands for the container's init. */
    public static Process container(TestCgroups cg, String cgroup) throws IOException {
        Path procs = cg.hierarchy().dir(cgroup).resolve("cgroup.procs");
        Process p = cg.track(new ProcessBuilder("sh", "-c", "echo $$ > " + procs + " && echo ready && exec sleep 600").start());
        String line = new BufferedReader(new InputStreamReader(p.getInputStream())).readLine();
        if (!"ready".equals(line)) throw new IOException("container process did not start in " + cgroup);
        return p;
    }

    static String state(String id, long pid, Map<String, String> annotations) throws IOException {
        var n = JSON.createObjectNode().put("ociVersion", "1.0.2").put("id", id).put("status", "running")
                .put("pid", pid).put("bundle", "/nonexistent/bundle");
        annotations.forEach(n.putObject("annotations")::put);
        return JSON.writeValueAsString(n);
    }

    static List<JsonNode> lines(Cli.Result r) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (String l : r.out().split("\n")) if (!l.isBlank()) out.add(JSON.readTree(l));
        return out;
    }

    /** Writes key i -> value i*7 for i in [0, n) through the map's pin. */
    public static void fill(Path pin, int n, int valueSize) {
        try (MapFd m = (MapFd) BpfFd.openPin(pin)) {
            ByteBuffer k = ByteBuffer.allocate(8).order(ByteOrder.nativeOrder()), v = ByteBuffer.allocate(valueSize).order(ByteOrder.nativeOrder());
            for (long i = 0; i < n; i++) {
                k.putLong(0, i);
                v.putLong(0, i * 7);
                m.update(k, v, MapFd.BPF_ANY);
            }
        }
    }

    public static void assertFilled(Path pin, int n, int valueSize) {
        try (MapFd m = (MapFd) BpfFd.openPin(pin)) {
            ByteBuffer k = ByteBuffer.allocate(8).order(ByteOrder.nativeOrder()), v = ByteBuffer.allocate(valueSize).order(ByteOrder.nativeOrder());
            for (long i = 0; i < n; i++) {
                k.putLong(0, i);
                assertTrue(m.lookup(k, v), "key " + i + " lost");
                assertEquals(i * 7, v.getLong(0), "value of key " + i);
            }
            k.putLong(0, n);
            assertTrue(!m.lookup(k, v), "key " + n + " appeared");
        }
    }

    private MapRecord pinned(Snapshot s, Path pin) {
        return s.pinnedAt(pin.toString()).orElseThrow(() -> new AssertionError("nothing pinned at " + pin));
    }

    @Test
    void restartedContainerGetsItsMapsChargedAndASecondRunChangesNothing() throws Exception {
        String old = cg.child("old"), ctr = cg.child("ctr");
        Path hash = cg.pin("hash"), outer = cg.pin("outer");
        int inner;
        try (MapMaker.Maps m = MapMaker.run(cg, old, false,
                spec("hash", 8, 64, ENTRIES, "hook_hash").pin(hash),
                spec("hash", 8, 8, 64, "hook_inner"),
                spec("array_of_maps", 4, 4, 4, "hook_outer").pin(outer).outerOfPrevious())) {
            inner = m.id(1);
        }
        fill(hash, ENTRIES, 64);
        Process p = container(cg, ctr);
        String state = state("hook-it", p.pid(), Map.of(Wanted.ANNOTATION, cg.pinDir() + "/*"));

        try (Inventory inv = new Inventory(cg.hierarchy())) {
            Snapshot before = inv.scan();
            assertEquals(old, pinned(before, hash).memcg().path());
            long oldUsage = cg.usage(old);

            Cli.Result first = Cli.runWithInput(state, "hook", "--json-log");
            assertEquals(0, first.exit(), first.err());
            List<JsonNode> log = lines(first);
            // hash and the outer's inner map are migrated; one line each.
            assertTrue(log.stream().anyMatch(l -> l.get("pin").asText().equals(hash.toString())
                    && l.get("result").asText().equals("migrated") && l.get("to").asText().equals(ctr)), first.out());
            assertTrue(log.stream().anyMatch(l -> l.get("result").asText().equals("migrated")
                    && l.get("map_name").asText().equals("hook_inner")), first.out());
            for (JsonNode l : log) assertEquals("hook-it", l.get("container").asText());

            Snapshot after = inv.scan();
            MapRecord h = pinned(after, hash);
            assertEquals(ctr, h.memcg().path());
            assertFilled(hash, ENTRIES, 64);
            MapRecord newInner = after.maps().stream().filter(r -> r.info().name().equals("hook_inner")
                    && r.outer().stream().anyMatch(s -> s.outerId() == pinned(after, outer).id())).findFirst().orElseThrow();
            assertEquals(ctr, newInner.memcg().path());
            assertTrue(newInner.id() != inner, "inner map was not replaced");
            // The kernel uncharges after the id is gone (a work item frees the memory): a small map's is not waited for.
            Await.until("old memcg uncharged below " + oldUsage + " bytes", () -> cg.usage(old) < oldUsage);

            Cli.Result second = Cli.runWithInput(state, "hook", "--json-log");
            assertEquals(0, second.exit(), second.err());
            for (JsonNode l : lines(second))
                assertTrue(l.get("result").asText().equals("unchanged"), second.out());
            Snapshot again = inv.scan();
            assertEquals(h.id(), pinned(again, hash).id(), "second run replaced the map");
            assertEquals(newInner.id(), again.map(newInner.id()).orElseThrow().id());
            assertEquals(ctr, pinned(again, hash).memcg().path());
        }
    }

    /**
     * The hook plans with migrate's reserve: a pinned map that would leave the container's processes less than a
     * quarter of its limit stays where it is (a kill could not make room: the container would be OOM-killed at
     * every start), and --reserve 0 moves it all the same. The same planning on v2 is OomGroupIT's.
     */
    @Test
    @HostOnly
    void theReserveKeepsAMapThatWouldFillTheContainersLimitAndZeroTurnsItOff() throws Exception {
        String old = cg.child("old"), ctr = cg.child("ctr");
        Path pin = cg.pin("big");
        MapMaker.run(cg, old, false, spec("hash", 8, 64, 100_000, "hook_big").pin(pin)).close();
        Process p = container(cg, ctr);
        String state = state("hook-reserve", p.pid(), Map.of(Wanted.ANNOTATION, pin.toString()));
        try (Inventory inv = new Inventory(cg.hierarchy())) {
            long bytes = pinned(inv.scan(), pin).bytes();
            // Room now for the twin, but a kill would free a sixth of the limit at most: below the 25% reserve.
            cg.setLimit(ctr, bytes + bytes / 5);

            Cli.Result kept = Cli.runWithInput(state, "hook", "--json-log");
            assertEquals(0, kept.exit(), kept.err());
            JsonNode line = lines(kept).getFirst();
            assertEquals("failed", line.get("result").asText(), kept.out());
            assertEquals(7, line.get("exit").asInt(), kept.out());
            assertTrue(line.get("message").asText().contains("less than the 25% reserve"), kept.out());
            assertEquals(old, pinned(inv.scan(), pin).memcg().path(), "refused: the map stays");

            Cli.Result moved = Cli.runWithInput(state, "hook", "--json-log", "--reserve", "0");
            assertEquals(0, moved.exit(), moved.err());
            assertEquals("migrated", lines(moved).getFirst().get("result").asText(), moved.out());
            assertEquals(ctr, pinned(inv.scan(), pin).memcg().path());
        }
    }

    /** A helper killed mid-create (kill -9, OOM killer) fails that map only: the hook goes on and exits 0. */
    @Test
    @HostOnly // the hook's handling of a dead helper; the v2 paths it passes are the other hook tests'
    void killedHelperFailsOneMapAndTheHookGoesOnToTheNext() throws Exception {
        String old = cg.child("old"), ctr = cg.child("ctr");
        Path a = cg.pin("a_killed"), b = cg.pin("b_next");
        int aId;
        try (MapMaker.Maps m = MapMaker.run(cg, old, false, spec("hash", 8, 8, 64, "hook_a").pin(a),
                spec("hash", 8, 8, 64, "hook_b").pin(b))) {
            aId = m.id(0);
        }
        Process p = container(cg, ctr);
        String state = state("killed-helper", p.pid(), Map.of(Wanted.ANNOTATION, cg.pinDir() + "/*"));
        Path runDir = Files.createTempDirectory("bpfcharge-run");
        Cli.Result r;
        try (PausePoints pause = new PausePoints()) {
            List<String> cmd = new ArrayList<>(List.of("env", "BPFCHARGE_RUN_DIR=" + runDir, "BPFCHARGE_STATE_DIR=" + runDir));
            cmd.addAll(Cli.command("hook", "--json-log"));
            var run = Cli.start(pause.command("helper", cmd), state);
            PausePoints.kill9(pause.await()); // a_killed's helper
            pause.release(pause.await());     // b_next's helper goes on
            r = run.get(120, java.util.concurrent.TimeUnit.SECONDS);
        } finally {
            removeAll(runDir);
        }
        assertEquals(0, r.exit(), r.out() + r.err());
        List<JsonNode> log = lines(r);
        assertEquals(2, log.size(), r.out());
        assertEquals("failed", log.get(0).get("result").asText(), r.out());
        assertEquals(8, log.get(0).get("exit").asInt());
        assertTrue(log.get(0).get("message").asText().contains("killed by signal 9"), r.out());
        assertEquals("migrated", log.get(1).get("result").asText(), r.out());
        try (Inventory inv = new Inventory(cg.hierarchy())) {
            Snapshot s = inv.scan();
            assertEquals(aId, pinned(s, a).id(), "the killed create replaced the map");
            assertEquals(old, pinned(s, a).memcg().path());
            assertEquals(ctr, pinned(s, b).memcg().path());
        }
    }

    /**
     * Who may claim a pin with the annotation. Without a rules file: only a charge no running task pays for (a
     * map charged to a running tenant's memcg is refused, logged, and left there). With one: only the pins the
     * annotation_pins of the rules matching the container allow; nothing for a container no rule allows.
     */
    @Test
    @HostOnly // rules and scope logic; the v2 "populated" it reads is AccountingIT's, in the VM
    void annotationClaimsAreConfinedByTheNode() throws Exception {
        String old = cg.child("old"), tenant = cg.child("tenant"), ctr = cg.child("ctr");
        Path mine = cg.pin("mine"), mine2 = cg.pin("mine2"), theirs = cg.pin("theirs");
        MapMaker.run(cg, old, false, spec("hash", 8, 8, 64, "conf_mine").pin(mine), spec("hash", 8, 8, 64, "conf_mine2").pin(mine2)).close();
        MapMaker.run(cg, tenant, false, spec("hash", 8, 8, 64, "conf_theirs").pin(theirs)).close();
        container(cg, tenant); // the tenant runs: its memcg is populated
        Process p = container(cg, ctr);

        Cli.Result open = Cli.runWithInput(state("web-1", p.pid(), Map.of(Wanted.ANNOTATION, mine + "," + theirs)), "hook", "--json-log");
        assertEquals(0, open.exit(), open.err());
        List<JsonNode> log = lines(open);
        assertEquals(List.of("migrated", "refused"), log.stream().map(l -> l.get("result").asText()).toList(), open.out());
        assertEquals(6, log.get(1).get("exit").asInt());
        assertTrue(log.get(1).get("message").asText().contains("charged to " + tenant + ", where tasks run"), open.out());

        Path rules = Files.createTempFile("bpfcharge-rules", ".yaml");
        try {
            Files.writeString(rules, "rules:\n  - match: {id: \"web-*\"}\n    annotation_pins: [\"" + cg.pinDir() + "/mine*\"]\n");
            Files.setPosixFilePermissions(rules, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
            Cli.Result ruled = Cli.runWithInput(state("web-1", p.pid(), Map.of(Wanted.ANNOTATION, mine2 + "," + theirs)),
                    "hook", "--rules", rules.toString(), "--json-log");
            assertEquals(0, ruled.exit(), ruled.err());
            log = lines(ruled);
            assertEquals(List.of("migrated", "refused"), log.stream().map(l -> l.get("result").asText()).toList(), ruled.out());
            assertTrue(log.get(1).get("message").asText().contains("is not among the pins the annotation may claim"), ruled.out());
            Cli.Result other = Cli.runWithInput(state("db-1", p.pid(), Map.of(Wanted.ANNOTATION, theirs.toString())),
                    "hook", "--rules", rules.toString(), "--json-log");
            assertTrue(lines(other).getFirst().get("message").asText().contains("that match it: none"), other.out());
        } finally {
            Files.deleteIfExists(rules);
        }
        try (Inventory inv = new Inventory(cg.hierarchy())) {
            Snapshot s = inv.scan();
            assertEquals(ctr, pinned(s, mine).memcg().path());
            assertEquals(ctr, pinned(s, mine2).memcg().path());
            assertEquals(tenant, pinned(s, theirs).memcg().path(), "a running tenant's map was pulled");
        }
    }

    /** The log names the map the hook migrated: after finishing an interrupted migration, that map's successor. */
    @Test
    @HostOnly // journal recovery inside the hook; the hook's migration itself is the first test's
    void theLogNamesTheMapItMigrated() throws Exception {
        String old = cg.child("old"), mid = cg.child("mid"), ctr = cg.child("ctr");
        Path pin = cg.pin("resumed");
        int first;
        try (MapMaker.Maps m = MapMaker.run(cg, old, false, spec("hash", 8, 8, 64, "resumed").pin(pin))) {
            first = m.id(0);
        }
        Path runDir = Files.createTempDirectory("bpfcharge-run");
        try {
            List<String> crash = new ArrayList<>(List.of("env", "BPFCHARGE_RUN_DIR=" + runDir, "BPFCHARGE_STATE_DIR=" + runDir, "BPFCHARGE_CRASH_AT=copied"));
            crash.addAll(Cli.command("migrate", "--map", pin.toString(), "--to-cgroup", mid));
            assertEquals(137, Cli.exec(crash, null).exit());
            int twin; // the interrupted migration's replacement, still at its temporary pin
            try (var files = Files.list(cg.pinDir())) {
                Path tmp = files.filter(f -> f.getFileName().toString().startsWith("bpfcharge_tmp_")).findFirst().orElseThrow();
                try (MapFd m = (MapFd) BpfFd.openPin(tmp)) {
                    twin = m.info().id();
                }
            }
            Process p = container(cg, ctr);
            List<String> hook = new ArrayList<>(List.of("env", "BPFCHARGE_RUN_DIR=" + runDir, "BPFCHARGE_STATE_DIR=" + runDir));
            hook.addAll(Cli.command("hook", "--json-log"));
            Cli.Result r = Cli.exec(hook, state("resumed", p.pid(), Map.of(Wanted.ANNOTATION, pin.toString())));
            assertEquals(0, r.exit(), r.err());
            JsonNode line = lines(r).getFirst();
            assertEquals("migrated", line.get("result").asText(), r.out());
            assertEquals(twin, line.get("map_id").asInt(), "the hook's scan saw map " + first + ": " + r.out());
            assertEquals(mid, line.get("from").asText());
        } finally {
            removeAll(runDir);
        }
    }

    @Test
    @HostOnly // rule matching and the rules file's ownership; the hook's migration is the first test's
    void rulesFileSelectsTheContainersPinsAndMustBeRootOwned() throws Exception {
        String old = cg.child("old"), ctr = cg.child("ctr");
        Path mine = cg.pin("mine"), other = cg.pin("other");
        MapMaker.run(cg, old, false, spec("array", 4, 8, 16, "rule_mine").pin(mine),
                spec("array", 4, 8, 16, "rule_other").pin(other)).close();
        Process p = container(cg, ctr);
        Path rules = Files.createTempFile("bpfcharge-rules", ".yaml");
        try {
            Files.writeString(rules, "rules:\n"
                    + "  - match: {id: \"web-*\", annotations: {tier: front}}\n"
                    + "    pins: [\"" + mine + "\"]\n"
                    + "  - match: {id: \"db-*\"}\n"
                    + "    pins: [\"" + other + "\"]\n");
            Files.setPosixFilePermissions(rules, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
            String state = state("web-1", p.pid(), Map.of("tier", "front"));
            Cli.Result r = Cli.runWithInput(state, "hook", "--rules", rules.toString(), "--json-log");
            assertEquals(0, r.exit(), r.err());
            List<JsonNode> log = lines(r);
            assertEquals(1, log.size(), r.out());
            assertEquals("migrated", log.getFirst().get("result").asText());
            assertEquals("rule 1 of " + rules, log.getFirst().get("source").asText());
            try (Inventory inv = new Inventory(cg.hierarchy())) {
                Snapshot s = inv.scan();
                assertEquals(ctr, pinned(s, mine).memcg().path());
                assertEquals(old, pinned(s, other).memcg().path(), "another rule's pins were touched");
            }

            Files.setPosixFilePermissions(rules, java.nio.file.attribute.PosixFilePermissions.fromString("rw-rw-r--"));
            failOpen(state, 6, "writable by group or others", "--rules", rules.toString());
        } finally {
            Files.deleteIfExists(rules);
        }
    }

    @Test
    @HostOnly // pin path checks; the container's cgroup and the scan before them are the first test's
    void unsafePathsAreLoggedAndRefusedOnlyUnderStrict() throws Exception {
        String ctr = cg.child("ctr");
        Path outside = Files.createTempFile("hook-it", "");
        try {
            Files.createSymbolicLink(cg.pin("link"), outside);
            Process p = container(cg, ctr);
            String state = state("unsafe", p.pid(), Map.of(Wanted.ANNOTATION,
                    cg.pin("link") + "," + cg.pinDir() + "/../../../etc/passwd"));
            Cli.Result open = Cli.runWithInput(state, "hook", "--json-log");
            assertEquals(0, open.exit(), open.err());
            List<JsonNode> log = lines(open);
            assertEquals(2, log.size(), open.out());
            for (JsonNode l : log) {
                assertEquals("refused", l.get("result").asText());
                assertEquals(6, l.get("exit").asInt());
            }
            Cli.Result strict = Cli.runWithInput(state, "hook", "--strict");
            assertEquals(6, strict.exit(), strict.out() + strict.err());
            assertTrue(strict.out().contains("refused"), strict.out());
        } finally {
            Files.deleteIfExists(outside);
        }
    }

    /**
     * Fail-open whatever fails, since a runtime stops the container when its hook exits non-zero: one line on
     * stderr and exit 0, nothing on stdout; --strict exits with the code.
     */
    private static void failOpen(String state, int strictExit, String expect, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("hook"));
        cmd.addAll(List.of(args));
        Cli.Result open = Cli.runWithInput(state, cmd.toArray(String[]::new));
        assertEquals(0, open.exit(), open.err());
        assertEquals(1, open.err().strip().lines().count(), open.err());
        assertTrue(open.err().startsWith("bpfcharge: ") && open.err().contains(expect) && open.err().contains("fail-open"),
                open.err());
        assertEquals("", open.out());
        cmd.add("--strict");
        Cli.Result strict = Cli.runWithInput(state, cmd.toArray(String[]::new));
        assertEquals(strictExit, strict.exit(), strict.err());
        assertEquals(1, strict.err().strip().lines().count(), strict.err());
        assertTrue(strict.err().contains(expect), strict.err());
    }

    @Test
    @HostOnly // OCI state parsing
    void badStateOrAGoneContainerIsOneLineAndFailOpen() throws Exception {
        failOpen("{\"id\":\"x\",\"pid\":", 2, "OCI state on stdin is truncated");
        failOpen(state("gone", Integer.MAX_VALUE - 1, Map.of(Wanted.ANNOTATION, cg.pinDir() + "/*")), 5,
                "run the hook at createRuntime");
    }

    /** A private run directory and what is below it (baselines/BOOT_ID). */
    private static void removeAll(Path dir) throws IOException {
        try (var files = Files.walk(dir)) {
            for (Path f : files.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(f);
        }
    }
}
