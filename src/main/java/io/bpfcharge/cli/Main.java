package io.bpfcharge.cli;

import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/** Entry point: parses the command line and turns every failure into one line and an exit code. */
@Command(name = "bpfcharge", mixinStandardHelpOptions = true, scope = CommandLine.ScopeType.INHERIT, versionProvider = Main.Version.class,
        description = "Which memory cgroup pays for each BPF map, and moving that charge where it belongs.",
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
                "0:success (also: nothing to do)",
                "1:unexpected failure (kernel or I/O error)",
                "2:bad command line or input (OCI state JSON on stdin, rules file, web config)",
                "3:missing privileges (run as root)",
                "4:host lacks something bpfcharge needs (BTF, bpffs, kernel >= 5.11, memory cgroup)",
                "5:no such map, pin, cgroup or process (or it has exited)",
                "6:refused: the map cannot be migrated as asked (type, holders, target), or an unsafe pin path (outside bpffs) or rules file",
                "7:the target cgroup has no room for another copy of the map, or would keep less than --reserve of its limit free for its processes",
                "8:migration failed and was rolled back: the old map is in place"})
public final class Main implements java.util.concurrent.Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** No subcommand: the command summary rather than picocli's "Missing required subcommand". */
    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getOut());
        return io.bpfcharge.BpfchargeException.Exit.USAGE.code;
    }

    public static void main(String[] args) {
        Environment.faults().install();
        System.exit(run(args));
    }

    public static int run(String... args) {
        return commandLine(args).execute(args);
    }

    /** Runs with the given output streams (tests, and callers that capture output). */
    public static int run(java.io.PrintWriter out, java.io.PrintWriter err, String... args) {
        return commandLine(args).setOut(out).setErr(err).execute(args);
    }

    /** Subcommands in the order --help lists them. */
    private static final Map<String, Supplier<Object>> SUBCOMMANDS = subcommands();

    private static Map<String, Supplier<Object>> subcommands() {
        Map<String, Supplier<Object>> m = new LinkedHashMap<>();
        m.put("maps", MapsCommand::new);
        m.put("cgroups", CgroupsCommand::new);
        m.put("oom", OomCommand::new);
        m.put("doctor", DoctorCommand::new);
        m.put("serve", ServeCommand::new);
        m.put("migrate", MigrateCommand::new);
        m.put("bench", BenchCommand::new);
        m.put("hook", HookCommand::new);
        m.put("help", CommandLine.HelpCommand::new);
        // Prints a bash completion script for the whole command tree (the Debian package installs it).
        m.put("generate-completion", AutoComplete.GenerateCompletion::new);
        return m;
    }

    /** Subcommands that describe the whole command tree, so every command must be registered first. */
    private static final Set<String> WHOLE_TREE = Set.of("help", "generate-completion");

    /**
     * picocli reads every registered command's annotations up front, which is most of a short run's
     * start: when the first argument names a subcommand, only that one is registered. Anything else
     * (help, generate-completion, an unknown word, no argument) registers them all, so usage, completion
     * and suggestions are complete. Public for the man page generator run at packaging time
     * (contrib/deb/ManPages.java), which reads the whole tree from {@code commandLine()}.
     */
    public static CommandLine commandLine(String... args) {
        CommandLine cl = new CommandLine(new Main());
        Supplier<Object> only = args.length > 0 && !WHOLE_TREE.contains(args[0]) ? SUBCOMMANDS.get(args[0]) : null;
        if (only != null) cl.addSubcommand(args[0], only.get());
        else SUBCOMMANDS.forEach((name, command) -> cl.addSubcommand(name, command.get()));
        // Set after adding: picocli copies these settings to the subcommands present at the time.
        cl.registerConverter(Long.class, Main::wholeNumber).registerConverter(long.class, Main::wholeNumber)
                .registerConverter(Integer.class, Main::intNumber).registerConverter(int.class, Main::intNumber);
        return cl.setExecutionExceptionHandler(Errors::handle).setParameterExceptionHandler(Errors::usage);
    }

    /** picocli's own converter says "'abc' is not a long": Java's word, not the user's. */
    private static Long wholeNumber(String s) {
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new CommandLine.TypeConversionException("'" + io.bpfcharge.BpfchargeException.clip(s) + "' is not a whole number");
        }
    }

    private static Integer intNumber(String s) {
        long v = wholeNumber(s);
        if (v != (int) v) throw new CommandLine.TypeConversionException("'" + s + "' is too large");
        return (int) v;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[]{"bpfcharge " + (v == null ? "dev" : v)};
        }
    }
}
