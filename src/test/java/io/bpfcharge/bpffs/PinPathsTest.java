package io.bpfcharge.bpffs;

import io.bpfcharge.BpfchargeException;
import io.bpfcharge.BpfchargeException.Exit;
import io.bpfcharge.bpf.MapFd;
import io.bpfcharge.bpf.MapInfo;
import io.bpfcharge.bpf.MapType;
import io.bpfcharge.testing.KernelTest;
import io.bpfcharge.testing.TestCgroups;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Untrusted pin paths against a real bpffs: symlinks out, other file systems inside, globs. */
@KernelTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PinPathsTest {
    private TestCgroups cg;
    private Path dir, tmpfs, hidden, outside;
    private final PinPaths paths = PinPaths.current();

    @BeforeAll
    void pins() throws Exception {
        cg = new TestCgroups();
        dir = cg.pinDir();
        outside = Files.createTempDirectory("bpffs-paths-test");
        Files.createDirectories(dir.resolve("sub/deeper"));
        try (MapFd m = MapFd.create(new MapInfo(0, MapType.byName("array"), "paths_test", 4, 8, 1, 0, 0, 0, 0, 0, 0, 0), null, null)) {
            for (String p : List.of("a_1", "a_2", "b", "sub/c", "sub/deeper/d")) m.pin(dir.resolve(p));
        }
        Files.writeString(outside.resolve("secret"), "x");
        Files.createSymbolicLink(dir.resolve("to_b"), dir.resolve("b"));
        Files.createSymbolicLink(dir.resolve("to_secret"), outside.resolve("secret"));
        Files.createSymbolicLink(dir.resolve("out"), outside);
        Files.createSymbolicLink(dir.resolve("dangling"), dir.resolve("gone"));
        // Another file system mounted inside bpffs, with a file that a glob could otherwise match.
        tmpfs = Files.createDirectory(dir.resolve("mnt"));
        run("mount", "-t", "tmpfs", "-o", "size=64k", "bpfcharge-test", tmpfs.toString());
        Files.writeString(tmpfs.resolve("e"), "not a pin");
        // A bpffs mount hidden under a later tmpfs mount: its mountinfo line says bpf, its mount point shows tmpfs.
        hidden = Files.createDirectory(dir.resolve("hidden"));
        run("mount", "-t", "bpf", "bpf", hidden.toString());
        run("mount", "-t", "tmpfs", "-o", "size=64k", "bpfcharge-test", hidden.toString());
        Files.writeString(hidden.resolve("f"), "not a pin either");
    }

    @AfterAll
    void cleanup() throws Exception {
        try {
            if (tmpfs != null) run("umount", tmpfs.toString());
            if (hidden != null) {
                run("umount", hidden.toString()); // the tmpfs
                run("umount", hidden.toString()); // the bpffs under it
            }
        } finally {
            if (cg != null) cg.close();
            if (outside != null) {
                Files.deleteIfExists(outside.resolve("secret"));
                Files.deleteIfExists(outside);
            }
        }
    }

    private static void run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).inheritIO().start();
        assertEquals(0, p.waitFor(), String.join(" ", cmd));
    }

    private List<String> names(String pattern) {
        return paths.expand(dir + "/" + pattern).stream().map(p -> dir.relativize(p).toString()).toList();
    }

    private BpfchargeException refused(String pattern) {
        BpfchargeException e = assertThrows(BpfchargeException.class, () -> paths.expand(pattern));
        assertEquals(Exit.REFUSED, e.exit(), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
        return e;
    }

    @Test
    void literalAndGlobbedPins() {
        assertEquals(List.of("b"), names("b"));
        assertEquals(List.of("a_1", "a_2"), names("a_*"));
        assertEquals(List.of("a_1", "a_2"), names("a_?"));
        assertEquals(List.of("a_1", "b"), names("{a_1,b}"));
        assertEquals(List.of("sub/c"), names("sub/*"));
        assertEquals(List.of("sub/c", "sub/deeper/d"), names("sub/**"));
        assertEquals(List.of(), names("nothing_*"));
        assertEquals(List.of(), names("nothing"));
    }

    @Test
    void symlinkInsideBpffsResolvesToItsTarget() {
        assertEquals(List.of("b"), names("to_b"));
    }

    @Test
    void globSkipsSymlinksOutAndOtherFileSystems() {
        // A link out of bpffs refuses the whole pattern rather than be skipped silently.
        assertTrue(refused(dir + "/to_*").getMessage().contains("to_secret"));
        assertTrue(refused(dir + "/*").getMessage().contains("not in a bpffs mount"));
        // "**" never descends into the tmpfs or through the linked directory.
        List<String> all = paths.expand(dir + "/sub/**").stream().map(Path::toString).toList();
        assertEquals(2, all.size());
    }

    @Test
    void aBpffsMountHiddenUnderAnotherFileSystemHoldsNoPins() {
        assertTrue(refused(hidden + "/f").getMessage().contains("not in a bpffs mount"));
        assertFalse(Pins.mounts().contains(hidden), Pins.mounts().toString());
    }

    @Test
    void refusesPathsThatLeaveBpffs() {
        assertTrue(refused(dir + "/to_secret").getMessage().contains("resolves to " + outside.resolve("secret")));
        assertTrue(refused(dir + "/out/secret").getMessage().contains("not in a bpffs mount"));
        assertTrue(refused(dir + "/out/*").getMessage().contains("not in a bpffs mount"));
        assertTrue(refused(dir + "/mnt/e").getMessage().contains("not in a bpffs mount"));
        assertTrue(refused(dir + "/mnt/*").getMessage().contains("not in a bpffs mount"));
        assertTrue(refused(outside.resolve("secret").toString()).getMessage().contains("not in a bpffs mount"));
        assertTrue(refused(dir + "/../../../etc/passwd").getMessage().contains("\"..\" component"));
        assertTrue(refused(dir + "/./b").getMessage().contains("\".\" component"));
        assertTrue(refused("sys/fs/bpf/x").getMessage().contains("not an absolute path"));
        assertTrue(refused(dir + "//b").getMessage().contains("empty component"));
        assertTrue(refused(dir + "/dangling").getMessage().contains("dangling symlink"));
        assertTrue(refused(dir + "/sub").getMessage().contains("is a directory"));
    }
}
