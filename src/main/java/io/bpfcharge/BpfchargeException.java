package io.bpfcharge;

import io.bpfcharge.bpf.BpfException;
import io.bpfcharge.cgroup.CgroupException;

/**
 * The one error type that reaches the CLI: a one-line message saying what is wrong and what
 * to do, and the documented exit code. Only the CLI prints it.
 */
public final class BpfchargeException extends RuntimeException {
    /** Exit codes, documented in the README ("Exit codes") and in every command's --help. */
    public enum Exit {
        OK(0), FAILED(1), USAGE(2), PRIVILEGE(3), ENVIRONMENT(4), NOT_FOUND(5), REFUSED(6), NO_ROOM(7),
        ROLLED_BACK(8);

        public final int code;

        Exit(int code) { this.code = code; }
    }

    private final Exit exit;

    public BpfchargeException(Exit exit, String message) {
        super(message);
        this.exit = exit;
    }

    public BpfchargeException(Exit exit, String message, Throwable cause) {
        super(message, cause);
        this.exit = exit;
    }

    public Exit exit() { return exit; }

    /**
     * Any exception as the one error type, with the documented exit code: the translation every front door
     * uses (the CLI prints it, the hook and the agent log it).
     */
    public static BpfchargeException of(Throwable e) {
        return switch (e) {
            case BpfchargeException b -> b;
            case BpfException b when b.permissionDenied() ->
                    new BpfchargeException(Exit.PRIVILEGE, b.getMessage() + ": run as root (CAP_SYS_ADMIN, CAP_BPF)", b);
            case BpfException b -> new BpfchargeException(Exit.FAILED, b.getMessage(), b);
            case CgroupException c -> new BpfchargeException(Exit.FAILED, c.getMessage(), c);
            case ExceptionInInitializerError x when x.getCause() != null -> of(x.getCause());
            default -> new BpfchargeException(Exit.FAILED, "unexpected " + e.getClass().getSimpleName() + ": " + e.getMessage()
                    + " (set BPFCHARGE_DEBUG=1 for a stack trace)", e);
        };
    }

    /** Untrusted text (annotations, pin paths, JSON values) made fit for a one-line message. */
    public static String clip(String s) {
        String one = s.replaceAll("\\p{Cntrl}", "?");
        return one.length() <= 80 ? one : one.substring(0, 77) + "...";
    }
}
