package io.bpfcharge.migrate;

import io.bpfcharge.testing.KernelTest;
import io.bpfcharge.testing.TestCgroups;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * What every migration IT needs: a source and a target memcg below the test's own, a private run
 * dir for journals, and after each test the check that no temporary pin or journal outlived it.
 */
@KernelTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class MigrationTestBase {
    protected TestCgroups cg;
    protected String src, dst;
    protected Path runDir;

    @BeforeAll
    void makeCgroups() throws IOException {
        cg = new TestCgroups();
        src = cg.child("src");
        dst = cg.child("dst");
        runDir = Files.createTempDirectory("bpfcharge-run");
    }

    @AfterEach
    void nothingLeftBehind() throws IOException {
        assertEquals(List.of(), Kernel.leftovers(cg.pinDir()), "temporary pins left");
        assertEquals(List.of(), Kernel.leftovers(Path.of("/sys/fs/bpf")), "temporary pins left in the bpffs root");
        assertEquals(List.of(), Kernel.runFilesLeft(runDir), "journal or baseline files left");
    }

    @AfterAll
    void removeCgroups() throws IOException {
        if (cg != null) cg.close();
        if (runDir == null) return;
        try (Stream<Path> s = Files.walk(runDir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
