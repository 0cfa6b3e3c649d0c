package io.bpfcharge.cli;

import io.bpfcharge.cgroup.MemoryHierarchy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** serve's option combinations that are usage errors, refused before anything needs root. */
class ServeOptionsTest {
    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            --runtime-roots-only                        | bpfcharge: --runtime-roots-only needs --recharge: add it, or drop --runtime-roots-only
            --recharge --runtime-roots-only             | bpfcharge: --runtime-roots-only watches no root without --runtime-root DIR: add one, or drop --runtime-roots-only
            --recharge --runtime-root rt --runtime-roots-only | bpfcharge: --runtime-root rt is not an absolute path
            --reserve 10                                | bpfcharge: --reserve needs --recharge: add it, or drop --reserve
            --recharge --reserve 101                    | bpfcharge: Invalid value for option '--reserve': expected a percentage from 0 to 100, not 101 (see: bpfcharge serve --help)
            """)
    void refused(String args, String error) {
        StringWriter err = new StringWriter();
        // A stray --oom-map-interval is refused right after these checks: should one of them let its case through,
        // the test fails on that message instead of serving on the default port until killed.
        String[] argv = ("serve --oom-map-interval 1 " + args).split(" ");
        assertEquals(2, Main.run(new PrintWriter(new StringWriter()), new PrintWriter(err), argv), err.toString());
        assertEquals(error, err.toString().strip());
    }

    @Test
    void oomdAvoidNeedsAnExistingV2Cgroup() {
        StringWriter err = new StringWriter();
        int exit = Main.run(new PrintWriter(new StringWriter()), new PrintWriter(err), "serve", "--oomd-avoid", "/no-such-cgroup-here");
        if (MemoryHierarchy.detect().version() == 2) {
            assertEquals(5, exit, err.toString());
            assertTrue(err.toString().startsWith("bpfcharge: memory cgroup /no-such-cgroup-here does not exist"), err.toString());
        } else {
            assertEquals(2, exit, err.toString());
            assertEquals("bpfcharge: --oomd-avoid needs the cgroup v2 memory controller (oomd runs only there); this host's is v1: drop --oomd-avoid",
                    err.toString().strip());
        }
        assertEquals(1, err.toString().strip().lines().count(), err.toString());
    }
}
