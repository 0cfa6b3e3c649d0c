package io.bpfcharge.hook;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bpfcharge.bpf.BpfFd;
import io.bpfcharge.bpf.MapFd;
import io.bpfcharge.inventory.Inventory;
import io.bpfcharge.inventory.MapRecord;
import io.bpfcharge.inventory.Snapshot;
import io.bpfcharge.testing.Cli;
import io.bpfcharge.testing.Crun;
import io.bpfcharge.testing.Started;
import io.bpfcharge.testing.KernelTest;
import io.bpfcharge.testing.MapMaker;
import io.bpfcharge.testing.TestCgroups;
import io.bpfcharge.testing.TimeScale;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static io.bpfcharge.testing.MapMaker.spec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * End to end with a real OCI runtime: crun runs containers whose config carries the hook exactly as the shipped
 * hooks.d files say (their stages, their arguments) and the io.bpfcharge.maps annotation; crun itself runs
 * bpfcharge. Each container's program (src/test/c/pinwriter.c) opens the pins at start and keeps writing: into a
 * standalone hash through the fd it holds, and into the inner map of a pinned hash_of_maps through the BPF
 * program it loads. After a restart the maps the first container's memcg paid for are charged to the second's,
 * and every write of both containers is there: at createRuntime the hook runs before the program opens anything.
 * Crun (io.bpfcharge.testing) runs each container from a test memcg with cgroups disabled, in a private mount
 * namespace without the hybrid v2 mount crun 1.8 refuses.
 */
@KernelTest
class CrunIT {
    static final ObjectMapper JSON = new ObjectMapper();
    static final int ENTRIES = 2000, WRITES = 100;
    /** How long a container gets to print that it is done (scaled under emulation by Started). */
    static final Duration WAIT = Duration.ofSeconds(120);

    @Test
    void restartedContainerRechargesTheMapsItsProgramHoldsThroughTheRuntimeHook() throws Exception {
        Crun.requireTools();
        Path tmp = Files.createTempDirectory("bpfcharge-crun");
        TestCgroups cg = new TestCgroups();
        try (Crun crun = new Crun(tmp)) {
            String first = cg.child("first"), second = cg.child("second");
            Map<String, String> claim = Map.of(Wanted.ANNOTATION, cg.pinDir() + "/*");
            crun.hooks(hooks(tmp, "bpfcharge.json", List.of("--json-log")));

            // The first container's loader made and filled the maps (charged to its memcg); its program then
            // writes keys [0, WRITES) through them.
            Path hash = cg.pin("hash"), outer = cg.pin("outer");
            MapMaker.run(cg, first, false, spec("hash", 8, 8, ENTRIES + 2 * WRITES, "crun_hash").pin(hash),
                    spec("hash", 8, 8, 4 * WRITES, "crun_inner"),
                    spec("hash_of_maps", 4, 4, 4, "crun_outer").pin(outer).outerOfPrevious()).close();
            HookIT.fill(hash, ENTRIES, 8);
            Started c1 = crun.run(cg, first, "bpfcharge-it-1", withLog(claim, tmp, "bpfcharge-it-1"), cg.pinDir(),
                    "pinwriter", "/pins/outer", "0", "" + WRITES, "+/pins/hash");
            c1.await("done", WAIT);
            for (JsonNode l : hookLog(tmp, "bpfcharge-it-1"))
                assertEquals("unchanged", l.get("result").asText(), l.toString()); // already charged to its memcg
            crun.delete(c1.id());

            // Restart: a second container, same annotation, fresh memcg; its program writes keys [WRITES, 2*WRITES).
            Started c2 = crun.run(cg, second, "bpfcharge-it-2", withLog(claim, tmp, "bpfcharge-it-2"), cg.pinDir(),
                    "pinwriter", "/pins/outer", "" + WRITES, "" + WRITES, "+/pins/hash");
            assertEquals(second, cg.hierarchy().cgroupOf(c2.pid()), "the container runs in its test memcg");
            List<JsonNode> lines = hookLog(tmp, "bpfcharge-it-2");
            // hash, the outer's inner map (found through the inventory), and the outer map itself: nothing held
            // them when the hook ran, because the program had not started.
            assertEquals(List.of("crun_hash", "crun_inner", "crun_outer"), lines.stream().map(l -> l.get("map_name").asText()).toList());
            for (JsonNode l : lines) {
                assertEquals("migrated", l.get("result").asText(), l.toString());
                assertEquals(first, l.get("from").asText());
                assertEquals(second, l.get("to").asText());
                // The hook runs inside the container's memcg, where its own JVM grows: that growth is no measure of
                // what the old map frees, or the hook waits out its release limit (10 s) at every start.
                assertEquals("", l.get("message").asText(), "the old map was freed: " + l);
            }
            c2.await("done", WAIT);

            try (Inventory inv = new Inventory(cg.hierarchy())) {
                Snapshot s = inv.scan();
                MapRecord h = s.pinnedAt(hash.toString()).orElseThrow();
                assertEquals(second, h.memcg().path());
                assertTrue(h.processes().stream().anyMatch(p -> p.pid() == c2.pid()),
                        "the program holds the recharged map: " + h.processes());
                int outerId = s.pinnedAt(outer.toString()).orElseThrow().id();
                MapRecord inner = s.maps().stream().filter(m -> m.outer().stream().anyMatch(o -> o.outerId() == outerId))
                        .findFirst().orElseThrow();
                assertEquals(second, inner.memcg().path());
                assertWrites(MapFd.byId(inner.id()), 0x100000, 2 * WRITES);
            }
            HookIT.assertFilled(hash, ENTRIES, 8);
            try (MapFd m = (MapFd) BpfFd.openPin(hash)) {
                assertWrites(m, 0x200000, 2 * WRITES);
            }
        } finally {
            cg.close();
            deleteTree(tmp);
        }
    }

    /**
     * Whatever stage the runtime runs it at, a failing hook would stop the container (createRuntime always, and
     * poststart in newer runtimes): the hook is fail-open, so a hook that cannot even read its rules file says
     * so in one line and the container runs.
     */
    @Test
    void aFailingHookDoesNotStopTheContainer() throws Exception {
        Crun.requireTools();
        Path tmp = Files.createTempDirectory("bpfcharge-crun");
        TestCgroups cg = new TestCgroups();
        Path rules = Files.createTempFile("bpfcharge-rules", ".yaml");
        try (Crun crun = new Crun(tmp)) {
            Files.writeString(rules, "rules: []\n");
            Files.setPosixFilePermissions(rules, PosixFilePermissions.fromString("rw-rw-rw-")); // refused: exit 6
            String ctr = cg.child("ctr");
            ObjectNode hooks = hooks(tmp, "bpfcharge-rules.json", List.of());
            hooks.properties().forEach(stage -> {
                ArrayNode args = (ArrayNode) stage.getValue().get(0).get("args");
                for (int i = 0; i < args.size(); i++)
                    if (args.get(i).asText().equals("--rules")) args.set(i + 1, rules.toString());
            });
            crun.hooks(hooks);
            Started c = crun.run(cg, ctr, "bpfcharge-it-fail", withLog(Map.of(), tmp, "bpfcharge-it-fail"), null,
                    "sleep", "600");
            assertEquals("running", crun.status(c.id()));
            List<String> err = Files.readAllLines(tmp.resolve("bpfcharge-it-fail.hook.err"));
            assertEquals(1, err.size(), err.toString());
            assertTrue(err.getFirst().startsWith("bpfcharge: rules file " + rules + " is writable by group or others"), err.toString());
        } finally {
            cg.close();
            Files.deleteIfExists(rules);
            deleteTree(tmp);
        }
    }

    /**
     * The "hooks" of a container's config as the shipped hooks.d file FILE says: its hook (run through a
     * "bpfcharge" launcher on this test's jar, with {@code extra} arguments) at each of its stages.
     */
    static ObjectNode hooks(Path tmp, String file, List<String> extra) throws IOException {
        Path launcher = tmp.resolve("bpfcharge");
        if (!Files.exists(launcher)) {
            // The hook's history and baselines go to this test's directories, not the node's.
            Files.writeString(launcher, "#!/bin/sh\nexec env BPFCHARGE_RUN_DIR=" + tmp.resolve("run") + " BPFCHARGE_STATE_DIR="
                    + tmp.resolve("state") + " " + String.join(" ", Cli.command()) + " \"$@\"\n");
            Files.setPosixFilePermissions(launcher, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        JsonNode shipped = JSON.readTree(Path.of("hooks.d", file).toFile());
        ObjectNode hook = ((ObjectNode) shipped.get("hook")).deepCopy();
        hook.put("path", launcher.toString());
        // The shipped timeout is a real node's budget for the hook's JVM; under emulation (the VM stage) on a loaded
        // host a start plus two migrations took longer than its 60 s, and crun killed the hook.
        hook.put("timeout", TimeScale.of(Duration.ofSeconds(hook.get("timeout").asLong())).toSeconds());
        extra.forEach(((ArrayNode) hook.get("args"))::add);
        ObjectNode hooks = JSON.createObjectNode();
        for (JsonNode stage : shipped.get("stages")) hooks.putArray(stage.asText()).add(hook);
        return hooks;
    }

    /** crun's annotations that send the hook's stdout and stderr to files. */
    static Map<String, String> withLog(Map<String, String> annotations, Path tmp, String id) {
        Map<String, String> a = new java.util.HashMap<>(annotations);
        a.put("run.oci.hooks.stdout", tmp.resolve(id + ".hook.log").toString());
        a.put("run.oci.hooks.stderr", tmp.resolve(id + ".hook.err").toString());
        return a;
    }

    private static List<JsonNode> hookLog(Path tmp, String id) throws IOException {
        Path log = tmp.resolve(id + ".hook.log");
        assertTrue(Files.exists(log), "the runtime did not run the hook (no " + log + ")");
        List<JsonNode> lines = new ArrayList<>();
        for (String l : Files.readAllLines(log)) if (!l.isBlank()) lines.add(JSON.readTree(l));
        assertTrue(!lines.isEmpty(), "the hook logged nothing; stderr: " + Files.readString(tmp.resolve(id + ".hook.err")));
        return lines;
    }

    /** Keys base+i -> i*3 for i in [0, n): every write pinwriter made, in whichever container. */
    private static void assertWrites(MapFd map, long base, int n) {
        try (map) {
            ByteBuffer k = ByteBuffer.allocate(8).order(ByteOrder.nativeOrder()), v = ByteBuffer.allocate(8).order(ByteOrder.nativeOrder());
            for (long i = 0; i < n; i++) {
                k.putLong(0, base + i);
                assertTrue(map.lookup(k, v), "write " + Long.toHexString(base + i) + " lost");
                assertEquals(i * 3, v.getLong(0));
            }
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
