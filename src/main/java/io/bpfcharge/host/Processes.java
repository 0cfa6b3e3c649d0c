package io.bpfcharge.host;

import oshi.util.driver.linux.proc.ProcessStat;

/** What /proc says about a process, through OSHI. */
public final class Processes {
    private Processes() {}

    /** Whether a pid names a process that still runs; a zombie has exited, only its parent has not reaped it. */
    public enum Liveness { RUNNING, EXITED, NONE }

    public static Liveness liveness(long pid) {
        if (pid <= 0 || pid > Integer.MAX_VALUE) return Liveness.NONE;
        var stat = ProcessStat.getPidStats((int) pid); // null when /proc/PID/stat is gone
        if (stat == null) return Liveness.NONE;
        // The kernel shows a zombie's cgroup as the root ("memory:/"): it has left its cgroup with its memory.
        return switch (ProcessStat.getState(stat.getB())) {
            case ZOMBIE, INVALID -> Liveness.EXITED;
            default -> Liveness.RUNNING;
        };
    }
}
