package io.bpfcharge.hook;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bpfcharge.inventory.Inventory;
import io.bpfcharge.inventory.MapRecord;
import io.bpfcharge.inventory.Snapshot;
import io.bpfcharge.testing.Cli;
import io.bpfcharge.testing.KernelTest;
import io.bpfcharge.testing.MapMaker;
import io.bpfcharge.testing.TestCgroups;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static io.bpfcharge.testing.MapMaker.spec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * End to end with a real OCI runtime: crun starts busybox containers whose config carries the
 * shipped hooks.d/bpfcharge.json hook and the io.bpfcharge.maps annotation; crun itself runs
 * bpfcharge. After a "restart" (a second container with the same annotation) the maps the first
 * one's memcg paid for are charged to the second one's.
 *
 * Cgroups: crun runs with --cgroup-manager=disabled from a process already placed in a test memcg
 * (below this process's own), so the container inherits it and crun creates no cgroup anywhere.
 * crun 1.8 refuses to start at all on a hybrid host whose v2 tree has controllers, even with
 * cgroups disabled; it is run in a private mount namespace without the v2 mount at
 * /sys/fs/cgroup/unified, which changes nothing outside that namespace.
 */
@KernelTest
class CrunIT {
    static final Path CRUN = Path.of("/usr/bin/crun"), BUSYBOX = Path.of("/bin/busybox");
    static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void restartedContainerRechargesItsPinnedMapsThroughTheRuntimeHook() throws Exception {
        for (Path tool : List.of(CRUN, BUSYBOX)) {
            if (Files.isExecutable(tool)) continue;
            if ("true".equals(System.getenv("CI"))) fail(tool + " is missing: scripts/setup installs crun and busybox-static");
            Assumptions.abort(tool + " is missing (apt-get install crun busybox-static)");
        }
        Path tmp = Files.createTempDirectory("bpfcharge-crun");
        List<String> containers = new ArrayList<>();
        TestCgroups cg = new TestCgroups();
        try {
            Path bundle = bundle(tmp);
            String annotation = cg.pinDir() + "/*";
            String first = cg.child("first"), second = cg.child("second");

            // The first container starts before its maps exist: the hook finds nothing to do.
            containers.add("bpfcharge-it-1");
            Path log1 = start(tmp, bundle, cg, first, "bpfcharge-it-1", annotation);
            List<JsonNode> lines1 = hookLog(log1);
            assertTrue(lines1.stream().allMatch(l -> l.get("result").asText().equals("no_match")), lines1.toString());

            // Its loader pins maps from the first container's memcg (busybox cannot create maps itself).
            Path hash = cg.pin("hash"), outer = cg.pin("outer");
            MapMaker.run(cg, first, false, spec("hash", 8, 64, HookIT.ENTRIES, "crun_hash").pin(hash),
                    spec("hash", 8, 8, 64, "crun_inner"),
                    spec("hash_of_maps", 4, 4, 4, "crun_outer").pin(outer).outerOfPrevious()).close();
            HookIT.fill(hash, HookIT.ENTRIES, 64);
            stop(tmp, "bpfcharge-it-1");

            // Restart: a second container, same annotation, in a fresh memcg.
            containers.add("bpfcharge-it-2");
            Path log2 = start(tmp, bundle, cg, second, "bpfcharge-it-2", annotation);
            long pid = JSON.readTree(crun(tmp, "state", "bpfcharge-it-2").out()).get("pid").asLong();
            assertEquals(second, cg.hierarchy().cgroupOf(pid), "the container runs in its test memcg");
            List<JsonNode> lines2 = hookLog(log2);
            // hash, the outer's inner map (found through the inventory), and the outer map itself (nothing holds it).
            assertEquals(List.of("crun_hash", "crun_inner", "crun_outer"), lines2.stream().map(l -> l.get("map_name").asText()).toList());
            for (JsonNode l : lines2) {
                assertEquals("migrated", l.get("result").asText(), l.toString());
                assertEquals(first, l.get("from").asText());
                assertEquals(second, l.get("to").asText());
            }

            try (Inventory inv = new Inventory(cg.hierarchy())) {
                Snapshot s = inv.scan();
                MapRecord h = s.pinnedAt(hash.toString()).orElseThrow();
                assertEquals(second, h.memcg().path());
                int outerId = s.pinnedAt(outer.toString()).orElseThrow().id();
                MapRecord inner = s.maps().stream().filter(m -> m.outer().stream().anyMatch(o -> o.outerId() == outerId))
                        .findFirst().orElseThrow();
                assertEquals(second, inner.memcg().path());
            }
            HookIT.assertFilled(hash, HookIT.ENTRIES, 64);
        } finally {
            // Containers first: their processes sit in the test's cgroups.
            for (String id : containers) crun(tmp, "delete", "--force", id);
            cg.close();
            deleteTree(tmp);
        }
    }

    /** A busybox rootfs and crun's default config, made non-interactive and without cgroup settings. */
    private static Path bundle(Path tmp) throws IOException, InterruptedException {
        Path bundle = Files.createDirectories(tmp.resolve("bundle"));
        Path bin = Files.createDirectories(bundle.resolve("rootfs/bin"));
        Files.copy(BUSYBOX, bin.resolve("busybox"));
        for (String applet : List.of("sh", "sleep")) Files.createSymbolicLink(bin.resolve(applet), Path.of("busybox"));
        Cli.Result spec = Cli.exec(List.of(CRUN.toString(), "spec", "--bundle", bundle.toString()), null);
        assertEquals(0, spec.exit(), spec.err());
        // The runtime runs the hook exactly as hooks.d/bpfcharge.json says, through a "bpfcharge" on this test's jar.
        Path launcher = tmp.resolve("bpfcharge");
        Files.writeString(launcher, "#!/bin/sh\nexec " + String.join(" ", Cli.command()) + " \"$@\"\n");
        Files.setPosixFilePermissions(launcher, PosixFilePermissions.fromString("rwxr-xr-x"));
        return bundle;
    }

    /** Writes the container's config and starts it from a process placed in {@code cgroup}; returns the hook log file. */
    private static Path start(Path tmp, Path bundle, TestCgroups cg, String cgroup, String id, String annotation)
            throws IOException, InterruptedException {
        ObjectNode config = (ObjectNode) JSON.readTree(bundle.resolve("config.json").toFile());
        ObjectNode process = (ObjectNode) config.get("process");
        process.put("terminal", false);
        process.putArray("args").add("sleep").add("600");
        ((ObjectNode) config.get("linux")).remove("resources");
        ArrayNode mounts = (ArrayNode) config.get("mounts");
        for (int i = mounts.size() - 1; i >= 0; i--)
            if (mounts.get(i).get("destination").asText().equals("/sys/fs/cgroup")) mounts.remove(i);
        Path log = tmp.resolve(id + ".hook.log");
        config.putObject("annotations").put(Wanted.ANNOTATION, annotation)
                .put("run.oci.hooks.stdout", log.toString()).put("run.oci.hooks.stderr", tmp.resolve(id + ".hook.err").toString());
        ObjectNode hook = ((ObjectNode) JSON.readTree(Path.of("hooks.d", "bpfcharge.json").toFile()).get("hook")).deepCopy();
        hook.put("path", tmp.resolve("bpfcharge").toString());
        ((ArrayNode) hook.get("args")).add("--json-log");
        config.putObject("hooks").putArray("poststart").add(hook);
        JSON.writeValue(bundle.resolve("config.json").toFile(), config);

        Path procs = cg.hierarchy().dir(cgroup).resolve("cgroup.procs");
        String script = "if mountpoint -q /sys/fs/cgroup/unified; then umount -l /sys/fs/cgroup/unified; fi; "
                + "echo $$ > " + procs + " && exec " + CRUN + " --root " + tmp.resolve("state") + " --cgroup-manager=disabled "
                + "run --detach --bundle " + bundle + " " + id;
        // The detached container inherits crun's stdio: files, not pipes that would never reach EOF.
        Path out = tmp.resolve(id + ".crun.out");
        Process p = new ProcessBuilder("unshare", "--mount", "--propagation", "private", "sh", "-c", script)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(out.toFile()).redirectErrorStream(true).start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "crun run " + id + " did not return");
        assertEquals(0, p.exitValue(), "crun run " + id + ": " + Files.readString(out));
        return log;
    }

    private static void stop(Path tmp, String id) throws IOException, InterruptedException {
        Cli.Result r = crun(tmp, "delete", "--force", id);
        assertEquals(0, r.exit(), r.err());
    }

    private static Cli.Result crun(Path tmp, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(CRUN.toString(), "--root", tmp.resolve("state").toString()));
        cmd.addAll(List.of(args));
        return Cli.exec(cmd, null);
    }

    private static List<JsonNode> hookLog(Path log) throws IOException {
        assertTrue(Files.exists(log), "the runtime did not run the hook (no " + log + ")");
        List<JsonNode> lines = new ArrayList<>();
        for (String l : Files.readAllLines(log)) if (!l.isBlank()) lines.add(JSON.readTree(l));
        assertTrue(!lines.isEmpty(), "the hook logged nothing; stderr: " + Files.readString(Path.of(log.toString().replace(".log", ".err"))));
        return lines;
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
