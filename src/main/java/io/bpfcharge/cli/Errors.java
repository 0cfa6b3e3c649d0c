package io.bpfcharge.cli;

import io.bpfcharge.BpfchargeException;
import io.bpfcharge.BpfchargeException.Exit;
import io.bpfcharge.bpf.BpfException;
import io.bpfcharge.bpf.Errno;
import io.bpfcharge.cgroup.CgroupException;
import picocli.CommandLine;

/** The CLI boundary: every exception becomes one line on stderr and a documented exit code. */
final class Errors {
    private Errors() {}

    static int handle(Exception e, CommandLine cmd, CommandLine.ParseResult parsed) {
        BpfchargeException b = translate(e);
        report(cmd, b.getMessage(), b.exit(), askedForJson(parsed));
        if (System.getenv("BPFCHARGE_DEBUG") != null) e.printStackTrace(cmd.getErr());
        return b.exit().code;
    }

    static int usage(CommandLine.ParameterException e, String[] args) {
        CommandLine cmd = e.getCommandLine();
        report(cmd, e.getMessage() + " (see: " + cmd.getCommandSpec().qualifiedName() + " --help)", Exit.USAGE,
                java.util.Arrays.asList(args).contains("--json"));
        return Exit.USAGE.code;
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

    static BpfchargeException translate(Throwable e) {
        return switch (e) {
            case BpfchargeException b -> b;
            case BpfException b when b.errno() == Errno.EPERM || b.errno() == Errno.EACCES ->
                    new BpfchargeException(Exit.PRIVILEGE, b.getMessage() + ": run as root (CAP_SYS_ADMIN, CAP_BPF)", b);
            case BpfException b -> new BpfchargeException(Exit.FAILED, b.getMessage(), b);
            case CgroupException c -> new BpfchargeException(Exit.FAILED, c.getMessage(), c);
            case ExceptionInInitializerError x when x.getCause() != null -> translate(x.getCause());
            default -> new BpfchargeException(Exit.FAILED, "unexpected " + e.getClass().getSimpleName() + ": " + e.getMessage()
                    + " (set BPFCHARGE_DEBUG=1 for a stack trace)", e);
        };
    }
}
