package io.bpfcharge.cli;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every command answers --help with its usage and exit code 0, as the usage errors tell users to try. */
class HelpTest {
    @ParameterizedTest
    @ValueSource(strings = {"maps", "cgroups", "doctor", "serve", "migrate", "hook"})
    void everyCommandHasHelp(String command) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int exit = Main.run(new PrintWriter(out), new PrintWriter(err), command, "--help");
        assertEquals(0, exit, err.toString());
        assertTrue(out.toString().startsWith("Usage: bpfcharge " + command), out.toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"--help", "help"})
    void topLevelHelpListsEveryCommand(String arg) {
        StringWriter out = new StringWriter();
        assertEquals(0, Main.run(new PrintWriter(out), new PrintWriter(new StringWriter()), arg));
        for (String c : new String[]{"maps", "cgroups", "doctor", "serve", "migrate", "hook"})
            assertTrue(out.toString().contains("\n  " + c + " "), c + " missing from\n" + out);
    }

    /** The script covers the whole tree although the first argument names a subcommand (registered alone otherwise). */
    @org.junit.jupiter.api.Test
    void completionScriptCompletesEveryCommand() {
        StringWriter out = new StringWriter(), err = new StringWriter();
        assertEquals(0, Main.run(new PrintWriter(out), new PrintWriter(err), "generate-completion"), err.toString());
        for (String c : new String[]{"maps", "cgroups", "oom", "doctor", "serve", "migrate", "hook"})
            assertTrue(out.toString().contains("function _picocli_bpfcharge_" + c + "()"), c + " missing from the completion script");
        assertTrue(out.toString().contains("complete -F _complete_bpfcharge"), "no complete -F line");
    }
}
