package io.bpfcharge.cgroup;

import io.bpfcharge.mount.Mountinfo;
import io.bpfcharge.mount.Mountinfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Detection of the memory hierarchy from mount tables as v1, hybrid and v2 hosts write them. */
class MemoryHierarchyTest {
    private static final String HYBRID = """
            30 25 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
            31 30 0:27 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw,nsdelegate
            35 30 0:31 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,memory
            36 30 0:32 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:16 - cgroup cgroup rw,cpu,cpuacct
            """;

    private static MemoryHierarchy detect(String mountinfo) {
        return MemoryHierarchy.detect(mountinfo.lines().map(Mountinfo::parse).filter(java.util.Objects::nonNull).toList());
    }

    @Test
    void hybridUsesTheV1MemoryMount() {
        MemoryHierarchy h = detect(HYBRID);
        assertEquals(CgroupMode.HYBRID, h.mode());
        assertEquals(1, h.version());
        assertEquals(Path.of("/sys/fs/cgroup/memory"), h.root());
    }

    @Test
    void pureV1() {
        String v1 = HYBRID.lines().filter(l -> !l.contains("cgroup2")).reduce("", (a, b) -> a + b + "\n");
        assertEquals(CgroupMode.V1, detect(v1).mode());
    }

    @Test
    void v2NeedsMemoryInTheRootControllers(@TempDir Path root) throws Exception {
        String mounts = "29 23 0:26 / " + root + " rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n";
        Files.writeString(root.resolve("cgroup.controllers"), "cpuset cpu io pids\n");
        assertThrows(CgroupException.class, () -> detect(mounts));
        Files.writeString(root.resolve("cgroup.controllers"), "cpuset cpu io memory pids\n");
        MemoryHierarchy h = detect(mounts);
        assertEquals(CgroupMode.V2, h.mode());
        assertEquals(2, h.version());
    }

    @Test
    void procCgroupLinePerVersion() {
        String proc = "4:memory:/process_api/abc\n3:cpuset:/\n0::/user.slice/x.scope\n";
        assertEquals("/process_api/abc", new MemoryHierarchy(CgroupMode.HYBRID, 1, Path.of("/m")).cgroupLine(proc));
        assertEquals("/user.slice/x.scope", new MemoryHierarchy(CgroupMode.V2, 2, Path.of("/c")).cgroupLine(proc));
        assertEquals("/k8s/pod", new MemoryHierarchy(CgroupMode.V1, 1, Path.of("/m")).cgroupLine("7:cpu,memory:/k8s/pod\n"));
    }

    @Test
    void pathsStayInsideTheHierarchy() {
        MemoryHierarchy h = new MemoryHierarchy(CgroupMode.V2, 2, Path.of("/sys/fs/cgroup"));
        assertEquals(Path.of("/sys/fs/cgroup/a/b"), h.dir("/a/b"));
        assertEquals(Path.of("/sys/fs/cgroup/a/b"), h.dir("/sys/fs/cgroup/a/b"));
        assertEquals("/a/b", h.pathOf(Path.of("/sys/fs/cgroup/a/b")));
        assertEquals("/", h.pathOf(Path.of("/sys/fs/cgroup")));
        assertThrows(CgroupException.class, () -> h.dir("/../../etc"));
        assertEquals("/a", MemoryHierarchy.parent("/a/b"));
        assertEquals("/", MemoryHierarchy.parent("/a"));
    }

    @Test
    void mountinfoUnescapesPaths() {
        Mountinfo m = Mountinfo.parse("40 30 0:40 / /sys/fs/bpf/my\\040dir rw,relatime shared:1 - bpf bpf rw,mode=700");
        assertEquals(Path.of("/sys/fs/bpf/my dir"), m.mountPoint());
        assertEquals("bpf", m.fsType());
    }
}
