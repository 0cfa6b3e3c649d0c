package io.bpfcharge.cli;

import io.bpfcharge.BpfchargeException;
import io.bpfcharge.BpfchargeException.Exit;
import io.bpfcharge.Suggestions;
import picocli.CommandLine;

import java.util.List;

/** The CLI boundary: every exception becomes one line on stderr and a documented exit code. */
final class Errors {
    private Errors() {}

    static int handle(Exception e, CommandLine cmd, CommandLine.ParseResult parsed) {
        BpfchargeException b = BpfchargeException.of(e);
        report(cmd, b.getMessage(), b.exit(), askedForJson(parsed));
        if (System.getenv("BPFCHARGE_DEBUG") != null) e.printStackTrace(cmd.getErr());
        return b.exit().code;
    }

    static int usage(CommandLine.ParameterException e, String[] args) {
        CommandLine cmd = e.getCommandLine();
        report(cmd, what(e) + " (see: " + cmd.getCommandSpec().qualifiedName() + " --help)", Exit.USAGE,
                java.util.Arrays.asList(args).contains("--json"));
        return Exit.USAGE.code;
    }

    /** picocli's message in the CLI's words: an unknown command is called one, with the command meant. */
    private static String what(CommandLine.ParameterException e) {
        String msg = e.getMessage().replaceFirst("^Error: ", "");
        if (!(e instanceof CommandLine.UnmatchedArgumentException u)) return msg;
        List<String> suggestions = u.getSuggestions();
        if (u.getCommandLine().getParent() == null && !u.isUnknownOption() && !u.getUnmatched().isEmpty()) {
            // picocli compares letter pairs, which misses a swap of two letters ("mpas").
            String typo = u.getUnmatched().getFirst();
            msg = "unknown command '" + BpfchargeException.clip(typo) + "'";
            suggestions = Suggestions.closest(typo, u.getCommandLine().getSubcommands().keySet()).map(List::of).orElse(suggestions);
        }
        return suggestions.isEmpty() ? msg : msg + ": did you mean " + String.join(" or ", suggestions) + "?";
    }

    /**
     * One line on stderr for people; under --json also {"error": ..., "exit": ...} on stdout, so that a
     * script reading stdout always gets one JSON document (as bpftool -j does).
     */
    private static void report(CommandLine cmd, String message, Exit exit, boolean json) {
        cmd.getErr().println("bpfcharge: " + message);
        cmd.getErr().flush();
        if (json) Json.write(cmd.getOut(), g -> {
            g.writeStartObject();
            g.writeStringField("error", message);
            g.writeNumberField("exit", exit.code);
            g.writeEndObject();
        });
    }

    private static boolean askedForJson(CommandLine.ParseResult parsed) {
        for (CommandLine.ParseResult p = parsed; p != null; p = p.subcommand())
            if (p.hasMatchedOption("--json")) return true;
        return false;
    }
}
