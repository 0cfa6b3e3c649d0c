package io.bpfcharge.cli;

import io.bpfcharge.testing.Cli;
import io.bpfcharge.testing.KernelTest;
import io.bpfcharge.testing.MapMaker;
import io.bpfcharge.testing.TestCgroups;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

import static io.bpfcharge.testing.MapMaker.spec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The real CLI in a pseudo-terminal of 120 columns (util-linux script), against maps charged to a cgroup with a
 * Kubernetes-length path: every table line fits, the path keeps its end; a pipe and --wide keep whole lines.
 */
@KernelTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TerminalWidthIT {
    static final String ID = "0123456789ab" + "cdef0123".repeat(6) + "4567";
    private TestCgroups cg;
    private String container;
    private MapMaker.Maps maps;

    @BeforeAll
    void start() throws Exception {
        cg = new TestCgroups();
        container = cg.nested("kubepods.slice", "kubepods-burstable.slice",
                "kubepods-burstable-pod1234abcd_5678_90ef_1234_567890abcdef.slice", "cri-containerd-" + ID + ".scope");
        // A pinned hash map, and an array pinned and held in slot 0 of an array_of_maps: every long column has a cell.
        maps = MapMaker.run(cg, container, true, spec("hash", 8, 64, 1000, "tw_sessions").pin(cg.pin("tw_sessions")),
                spec("array", 4, 8, 4, "tw_inner").pin(cg.pin("tw_inner_map_with_a_long_pin_name")),
                spec("array_of_maps", 4, 4, 4, "tw_outer").outerOfPrevious().pin(cg.pin("tw_outer")));
    }

    @AfterAll
    void stop() {
        if (maps != null) maps.close();
        if (cg != null) cg.close();
    }

    /** The command's output in a 120-column pseudo-terminal, lines without their carriage returns. */
    private List<String> inTerminal(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(Cli.command(args));
        String line = cmd.stream().map(a -> "'" + a.replace("'", "'\\''") + "'").collect(Collectors.joining(" "));
        // COLUMNS unset: the width is the terminal's, as a login shell that does not export it leaves it.
        Cli.Result r = Cli.exec(List.of("script", "-qec", "unset COLUMNS; stty cols 120 rows 50; exec " + line, "/dev/null"), null);
        assertEquals(0, r.exit(), r.out() + r.err());
        return r.out().lines().map(l -> l.replace("\r", "")).toList();
    }

    private static void fits(List<String> lines) {
        for (String l : lines) assertTrue(l.length() <= 120, l.length() + " columns: " + l);
    }

    private static String row(List<String> lines, String name) {
        return lines.stream().filter(l -> l.contains(name)).findFirst().orElseThrow(() -> new AssertionError(name + " in " + lines));
    }

    @Test
    void mapsFitA120ColumnTerminalWithTheContainerAtThePathsEnd() throws Exception {
        for (String[] args : new String[][]{{"maps", "--cgroup", cg.base()}, {"maps", "--pinned", "--cgroup", cg.base()}}) {
            List<String> lines = inTerminal(args);
            fits(lines);
            String inner = row(lines, "tw_inner");
            assertTrue(inner.contains("…") && inner.contains("0123456789ab.scope"), inner);
        }
    }

    @Test
    void cgroupsAndOomFitA120ColumnTerminal() throws Exception {
        List<String> cgroups = inTerminal("cgroups", "--cgroup", cg.base());
        fits(cgroups);
        assertTrue(row(cgroups, ".scope").startsWith("…"), String.join("\n", cgroups));
        List<String> oom = inTerminal("oom", "--cgroup", cg.base());
        fits(oom.subList(0, oom.size() - 1)); // the last line is a sentence: a terminal wraps it
        assertTrue(row(oom, ".scope").contains("0123456789ab.scope"), String.join("\n", oom));
    }

    @Test
    void aPipeAndWideKeepWholeLines() throws Exception {
        for (String command : List.of("maps", "cgroups")) {
            Cli.Result piped = Cli.run(command, "--cgroup", cg.base());
            assertEquals(0, piped.exit(), piped.err());
            assertTrue(piped.out().contains(container), "the whole path below --cgroup's subtree: " + piped.out());
            if (command.equals("maps")) // the slot as the array index it is, not the little-endian key 00000000
                assertTrue(row(piped.out().lines().toList(), "tw_inner").contains(" " + maps.id(2) + "[0]"), piped.out());
            assertTrue(String.join("\n", inTerminal(command, "--wide", "--cgroup", cg.base())).contains(container), command + " --wide");
        }
    }
}
