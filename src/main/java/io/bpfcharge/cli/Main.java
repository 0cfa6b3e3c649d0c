package io.bpfcharge.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point: parses the command line and turns every failure into one line and an exit code. */
@Command(name = "bpfcharge", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Which memory cgroup pays for each BPF map, and moving that charge where it belongs.",
        subcommands = {MapsCommand.class, CgroupsCommand.class, DoctorCommand.class, ServeCommand.class, MigrateCommand.class, BenchCommand.class, HookCommand.class, CommandLine.HelpCommand.class},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
                "0:success (also: nothing to do)",
                "1:unexpected failure (kernel or I/O error)",
                "2:bad command line or input (OCI state JSON on stdin, rules file)",
                "3:missing privileges (run as root)",
                "4:host lacks something bpfcharge needs (BTF, bpffs, kernel >= 5.11, memory cgroup)",
                "5:no such map, pin, cgroup or process",
                "6:refused: the map cannot be migrated as asked (type, holders, target), or an unsafe pin path or rules file",
                "7:the target cgroup has no room for another copy of the map",
                "8:migration failed and was rolled back: the old map is in place"})
public final class Main {
    public static void main(String[] args) {
        System.exit(run(args));
    }

    public static int run(String... args) {
        return commandLine().execute(args);
    }

    /** Runs with the given output streams (tests, and callers that capture output). */
    public static int run(java.io.PrintWriter out, java.io.PrintWriter err, String... args) {
        return commandLine().setOut(out).setErr(err).execute(args);
    }

    private static CommandLine commandLine() {
        return new CommandLine(new Main())
                .setExecutionExceptionHandler(Errors::handle)
                .setParameterExceptionHandler(Errors::usage);
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[]{"bpfcharge " + (v == null ? "dev" : v)};
        }
    }
}
