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
        cmd.getErr().println("bpfcharge: " + b.getMessage());
        if (System.getenv("BPFCHARGE_DEBUG") != null) e.printStackTrace(cmd.getErr());
        return b.exit().code;
    }

    static int usage(CommandLine.ParameterException e, String[] args) {
        CommandLine cmd = e.getCommandLine();
        cmd.getErr().println("bpfcharge: " + e.getMessage() + " (see: " + cmd.getCommandSpec().qualifiedName() + " --help)");
        return Exit.USAGE.code;
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
