package io.bpfcharge.agent;

import io.bpfcharge.host.Processes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Container discovery on state roots laid out file by file as each runtime writes them. */
class RuntimeRootsTest {
    static final long LIVE = ProcessHandle.current().pid();
    /** Above the largest pid_max Linux allows (2^22): no process has it. */
    static final long GONE = 1L << 30;
    static final String CONFIG = """
            {"ociVersion":"1.0.2","process":{"args":["sleep","600"]},"root":{"path":"rootfs"},
             "annotations":{"io.bpfcharge.maps":"/sys/fs/bpf/app/*","io.kubernetes.cri.container-name":"app","n":1}}""";

    @TempDir Path tmp;

    static long liveStart() { return Processes.startTicks(LIVE); }

    @Test
    void givenRootsFollowTheDefaultsOrAloneReplaceThem() {
        Path mine = Path.of("/srv/rt/state"), again = Path.of("/srv/rt/../rt/state");
        List<Path> withDefaults = new java.util.ArrayList<>(RuntimeRoots.DEFAULTS);
        withDefaults.add(mine);
        assertEquals(withDefaults, RuntimeRoots.of(List.of(mine, again, RuntimeRoots.DEFAULTS.get(0)), false).roots());
        assertEquals(List.of(mine), RuntimeRoots.of(List.of(mine, again), true).roots());
    }

    @Test
    void crunStatusAndItsConfigCopy() throws IOException {
        Path root = tmp.resolve("crun");
        crun(root, "c1", LIVE, liveStart());
        crun(root, "c2", GONE, 1);
        Container c = only(new RuntimeRoots(List.of(root)).scan());
        assertEquals(new Container(root, Layout.CRUN, "c1", LIVE, liveStart(), "/bundles/c1",
                Map.of("io.bpfcharge.maps", "/sys/fs/bpf/app/*", "io.kubernetes.cri.container-name", "app")), c);
        assertEquals("/sys/fs/bpf/app/*", c.state().annotations().get("io.bpfcharge.maps"));
        assertEquals(LIVE, c.state().pid());
    }

    @Test
    void runcStateReadsTheBundlesAnnotationsAndChecksTheStartTime() throws IOException {
        Path root = tmp.resolve("runc"), bundle = Files.createDirectories(tmp.resolve("bundle"));
        Files.writeString(bundle.resolve("config.json"), CONFIG);
        runc(root.resolve("r1"), "r1", LIVE, liveStart(), bundle);
        runc(root.resolve("reused"), "reused", LIVE, liveStart() + 1, bundle); // same pid, another process: not running
        Container c = only(new RuntimeRoots(List.of(root)).scan());
        assertEquals("r1", c.id());
        assertEquals(Layout.RUNC, c.layout());
        assertEquals(bundle.toString(), c.bundle());
        assertEquals("app", c.annotations().get("io.kubernetes.cri.container-name"));
    }

    @Test
    void runcWithoutItsBundleFallsBackToTheLabels() throws IOException {
        Path root = tmp.resolve("runc");
        runc(root.resolve("r1"), "r1", LIVE, liveStart(), tmp.resolve("removed-bundle"));
        assertEquals(Map.of("io.bpfcharge.maps", "/sys/fs/bpf/a=b/*"), only(new RuntimeRoots(List.of(root)).scan()).annotations());
    }

    @Test
    void containerdNamespacesOfRuncStateAndTaskBundles() throws IOException {
        Path runcRoot = tmp.resolve("containerd/runc"), tasks = tmp.resolve("containerd/io.containerd.runtime.v2.task");
        Path bundle = tasks.resolve("k8s.io/abc");
        taskBundle(bundle, LIVE);
        taskBundle(tasks.resolve("default/dead"), GONE);
        runc(runcRoot.resolve("k8s.io/abc"), "abc", LIVE, liveStart(), bundle);
        // One container, recorded by runc and by the shim: listed once, under the first root.
        List<Container> both = new RuntimeRoots(List.of(tasks, runcRoot)).scan();
        Container c = only(both);
        assertEquals(Layout.TASK_BUNDLE, c.layout());
        assertEquals(tasks, c.root());
        assertEquals("abc", c.id());
        assertEquals(bundle.toString(), c.bundle());
        assertEquals("/sys/fs/bpf/app/*", c.annotations().get("io.bpfcharge.maps"));
        assertEquals(Layout.RUNC, only(new RuntimeRoots(List.of(runcRoot, tasks)).scan()).layout());
    }

    @Test
    void crioAndPodmanUserdata() throws IOException {
        Path root = tmp.resolve("overlay-containers"), userdata = Files.createDirectories(root.resolve("f00d/userdata"));
        Files.writeString(userdata.resolve("config.json"), CONFIG);
        Files.writeString(userdata.resolve("pidfile"), Long.toString(LIVE));
        Files.writeString(userdata.resolve("conmon.pid"), "1");
        Container c = only(new RuntimeRoots(List.of(root)).scan());
        assertEquals(Layout.USERDATA, c.layout());
        assertEquals("f00d", c.id());
    }

    @Test
    void halfWrittenMissingAndForeignFilesAreNotContainers() throws IOException {
        Path root = tmp.resolve("crun");
        Files.createDirectories(root.resolve("half"));
        Files.writeString(root.resolve("half/status"), "{\"pid\" : " + LIVE + ", \"bun"); // being written
        Files.createDirectories(root.resolve("nopid"));
        Files.writeString(root.resolve("nopid/status"), "{}");
        Files.createDirectories(root.resolve("empty"));
        Files.writeString(root.resolve("stray-file"), "x");
        Path bundle = tmp.resolve("tasks/ns/t");
        taskBundle(bundle, LIVE);
        Files.writeString(bundle.resolve("init.pid"), "");
        assertEquals(List.of(), new RuntimeRoots(List.of(root, tmp.resolve("tasks"), tmp.resolve("missing"))).scan());
    }

    @Test
    void theWatcherSeesAContainerStateFileAppearInAWatchedDirectory() throws Exception {
        Path root = Files.createDirectories(tmp.resolve("crun"));
        Files.createDirectories(root.resolve("c1"));
        RuntimeRoots roots = new RuntimeRoots(List.of(root));
        try (RootWatcher w = new RootWatcher()) {
            w.rewatch(roots);
            assertFalse(w.await(Duration.ofMillis(50)), "nothing changed yet");
            crun(root, "c1", LIVE, liveStart());
            assertTrue(w.await(Duration.ofSeconds(10)), "the status file written into c1 was not seen");
            assertFalse(w.await(Duration.ofMillis(50)), "one change, one wake-up");
        }
        assertEquals("c1", only(roots.scan()).id());
    }

    static void crun(Path root, String id, long pid, long start) throws IOException { crun(root, id, pid, start, CONFIG); }

    /** A container's directory as crun writes it, with this config.json. */
    static void crun(Path root, String id, long pid, long start, String config) throws IOException {
        Path dir = Files.createDirectories(root.resolve(id));
        Files.writeString(dir.resolve("config.json"), config);
        Files.writeString(dir.resolve("status"), """
                {
                    "pid" : %d,
                    "process-start-time" : %d,
                    "cgroup-path" : "",
                    "scope" : "",
                    "rootfs" : "/bundles/%s/rootfs",
                    "systemd-cgroup" : "",
                    "bundle" : "/bundles/%s",
                    "created" : "2026-11-30T07:30:00.000000000Z",
                    "owner" : "0",
                    "detached" : "1",
                    "external_descriptors" : "[\\"/dev/null\\",\\"pipe:[1]\\",\\"pipe:[2]\\"]"
                }
                """.formatted(pid, start, id, id));
    }

    static void runc(Path dir, String id, long pid, long start, Path bundle) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("state.json"), """
                {"id":"%s","init_process_pid":%d,"init_process_start":%d,"created":"2026-11-30T07:30:00Z",
                 "config":{"no_pivot_root":false,"rootfs":"%s/rootfs","labels":["io.bpfcharge.maps=/sys/fs/bpf/a=b/*","bundle=%s"],
                   "cgroups":{"path":"/kubepods/pod1/%s"}},
                 "rootless":false,"cgroup_paths":{"memory":"/sys/fs/cgroup/memory/kubepods/pod1/%s"},"namespace_paths":{}}
                """.formatted(id, pid, start, bundle, bundle, id, id));
    }

    /** A task bundle as containerd 1.6's runc shim writes it (AgentContainerdIT reads a real one). */
    static void taskBundle(Path dir, long pid) throws IOException {
        Files.createDirectories(dir.resolve("rootfs"));
        Files.writeString(dir.resolve("config.json"), CONFIG);
        Files.writeString(dir.resolve("init.pid"), Long.toString(pid)); // the shim writes no newline
        Files.writeString(dir.resolve("address"), "unix:///run/containerd/s/" + "0123456789abcdef".repeat(4));
        Files.writeString(dir.resolve("runtime"), ""); // a runtime binary only when one was configured
        Files.writeString(dir.resolve("shim-binary-path"), "/usr/bin/containerd-shim-runc-v2");
        Files.writeString(dir.resolve("options.json"), "{\"root\":\"/run/containerd/runc\"}");
        Files.writeString(dir.resolve("log.json"), "");
    }

    static Container only(List<Container> cs) {
        assertEquals(1, cs.size(), cs.toString());
        return cs.getFirst();
    }
}
