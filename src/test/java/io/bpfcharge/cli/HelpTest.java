package io.bpfcharge.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
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

    /** No command: the summary, not "Missing required subcommand"; still exit 2, as for any incomplete command line. */
    @Test
    void noArgumentsPrintsTheSummary() {
        StringWriter out = new StringWriter(), err = new StringWriter();
        assertEquals(2, Main.run(new PrintWriter(out), new PrintWriter(err)));
        assertTrue(out.toString().startsWith("Usage: bpfcharge"), out.toString());
        assertTrue(out.toString().contains("\n  maps "), out.toString());
        assertEquals("", err.toString());
    }

    /** One line each, in the user's words: the command meant, a number in words, no "Error: " from picocli. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "mpas                                  | bpfcharge: unknown command 'mpas': did you mean maps? (see: bpfcharge --help)",
            "maps --pinnd                          | did you mean --pinned?",
            "migrate --map id:1 --to-pid abc       | Invalid value for option '--to-pid': 'abc' is not a whole number",
            "migrate --map id:1                    | bpfcharge: Missing required argument (specify one of these)",
    })
    void usageErrorsSayWhatWasMeant(String args, String expected) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        assertEquals(2, Main.run(new PrintWriter(out), new PrintWriter(err), args.split(" ")));
        assertTrue(err.toString().contains(expected), err.toString());
        assertEquals(1, err.toString().lines().count(), err.toString());
    }

    /** The script covers the whole tree although the first argument names a subcommand (registered alone otherwise). */
    @Test
    void completionScriptCompletesEveryCommand() {
        StringWriter out = new StringWriter(), err = new StringWriter();
        assertEquals(0, Main.run(new PrintWriter(out), new PrintWriter(err), "generate-completion"), err.toString());
        for (String c : new String[]{"maps", "cgroups", "oom", "doctor", "serve", "migrate", "hook"})
            assertTrue(out.toString().contains("function _picocli_bpfcharge_" + c + "()"), c + " missing from the completion script");
        assertTrue(out.toString().contains("complete -F _complete_bpfcharge"), "no complete -F line");
    }
}
