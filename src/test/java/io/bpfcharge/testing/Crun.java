package io.bpfcharge.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Containers started by Debian's crun with a private state root, for tests that need a real runtime but no
 * hook: a busybox rootfs that also holds {@code pinwriter} (src/test/c, a static program that loads a BPF
 * program writing through a pinned map-of-maps), a bundle per container. Each container is started from a
 * process already placed in a test memcg with {@code --cgroup-manager=disabled}, so it runs there and crun
 * creates no cgroup; in a private mount namespace without the hybrid v2 mount, which crun 1.8 refuses.
 */
public final class Crun implements AutoCloseable {
    static final Path CRUN = Path.of("/usr/bin/crun");
    static final ObjectMapper JSON = new ObjectMapper();

    private final Path dir, rootfs, state;
    private final List<String> ids = new ArrayList<>();
    private ObjectNode hooks;

    /** Fails under CI=true, else skips, when crun, busybox or gcc is missing. */
    public static void requireTools() { Rootfs.require("crun busybox-static gcc", CRUN); }

    public Crun(Path dir) throws IOException, InterruptedException {
        this.dir = dir;
        this.state = dir.resolve("state");
        this.rootfs = Rootfs.build(dir.resolve("rootfs"));
        Cli.Result spec = Cli.exec(List.of(CRUN.toString(), "spec", "--bundle", dir.toString()), null);
        assertEquals(0, spec.exit(), spec.err());
    }

    /** OCI hooks ({@code "hooks"} of config.json: stage to list of hooks) for the containers started next. */
    public Crun hooks(ObjectNode hooks) {
        this.hooks = hooks;
        return this;
    }

    /** The status crun reports for a container ("created", "running", "stopped"). */
    public String status(String id) throws IOException, InterruptedException {
        return JSON.readTree(crun("state", id).out()).get("status").asText();
    }

    /** The state root crun writes its containers to (what the node agent reads). */
    public Path stateRoot() { return state; }

    /**
     * Starts container {@code id} running {@code args} in memcg {@code cgroup} with these annotations and
     * {@code pins} bind-mounted at /pins (BPF capabilities included), and returns once crun has started it.
     */
    public Started run(TestCgroups cg, String cgroup, String id, Map<String, String> annotations, Path pins, String... args)
            throws IOException, InterruptedException {
        ObjectNode config = (ObjectNode) JSON.readTree(dir.resolve("config.json").toFile());
        ObjectNode process = (ObjectNode) config.get("process");
        process.put("terminal", false);
        ArrayNode argv = process.putArray("args");
        for (String a : args) argv.add(a);
        for (String set : List.of("bounding", "effective", "permitted"))
            ((ArrayNode) process.get("capabilities").get(set)).add("CAP_SYS_ADMIN").add("CAP_BPF").add("CAP_PERFMON");
        ((ObjectNode) config.get("root")).put("path", rootfs.toString());
        ((ObjectNode) config.get("linux")).remove("resources");
        ArrayNode mounts = (ArrayNode) config.get("mounts");
        for (int i = mounts.size() - 1; i >= 0; i--)
            if (mounts.get(i).get("destination").asText().equals("/sys/fs/cgroup")) mounts.remove(i);
        if (pins != null)
            mounts.addObject().put("destination", "/pins").put("type", "bind").put("source", pins.toString())
                    .putArray("options").add("rbind").add("rw");
        ObjectNode a = config.putObject("annotations");
        annotations.forEach(a::put);
        if (hooks != null) config.set("hooks", hooks.deepCopy());
        Path bundle = Files.createDirectories(dir.resolve("bundles").resolve(id));
        JSON.writeValue(bundle.resolve("config.json").toFile(), config);

        Path procs = cg.hierarchy().dir(cgroup).resolve("cgroup.procs");
        String script = "if mountpoint -q /sys/fs/cgroup/unified; then umount -l /sys/fs/cgroup/unified; fi; "
                + "echo $$ > " + procs + " && exec " + CRUN + " --root " + state + " --cgroup-manager=disabled "
                + "run --detach --bundle " + bundle + " " + id;
        // The detached container inherits crun's stdio: a file, not a pipe that would never reach EOF.
        Path out = dir.resolve(id + ".out");
        ids.add(id);
        Process p = new ProcessBuilder("unshare", "--mount", "--propagation", "private", "sh", "-c", script)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(out.toFile()).redirectErrorStream(true).start();
        // crun run returns after the container's createRuntime/poststart hooks: a JVM each, slow under emulation.
        assertTrue(p.waitFor(TimeScale.of(Duration.ofSeconds(120)).toSeconds(), TimeUnit.SECONDS), "crun run " + id + " did not return");
        assertEquals(0, p.exitValue(), "crun run " + id + ": " + Files.readString(out));
        long pid = JSON.readTree(crun("state", id).out()).get("pid").asLong();
        return new Started(id, pid, out);
    }

    public void delete(String id) throws IOException, InterruptedException {
        Cli.Result r = crun("delete", "--force", id);
        assertEquals(0, r.exit(), r.err());
        ids.remove(id);
    }

    private Cli.Result crun(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(CRUN.toString(), "--root", state.toString()));
        cmd.addAll(List.of(args));
        return Cli.exec(cmd, null);
    }

    /** Deletes every container still there (their processes sit in the test's cgroups). */
    @Override
    public void close() throws IOException, InterruptedException {
        for (String id : List.copyOf(ids)) crun("delete", "--force", id);
        ids.clear();
    }
}
