package io.bpfcharge.host;

import oshi.util.FileUtil;
import oshi.util.driver.linux.proc.ProcessStat;
import oshi.util.tuples.Triplet;

import java.math.BigInteger;
import java.util.Map;
import java.util.Optional;

/** What /proc says about a process, through OSHI. */
public final class Processes {
    private Processes() {}

    /** Whether a pid names a process that still runs; a zombie has exited, only its parent has not reaped it. */
    public enum Liveness { RUNNING, EXITED, NONE }

    public static Liveness liveness(long pid) {
        var stat = stat(pid);
        if (stat == null) return Liveness.NONE;
        // The kernel shows a zombie's cgroup as the root ("memory:/"): it has left its cgroup with its memory.
        return exited(stat) ? Liveness.EXITED : Liveness.RUNNING;
    }

    /**
     * When the process started, in clock ticks since boot (field 22 of /proc/PID/stat): with the pid it names one
     * process across pid reuse. -1 when it is gone or has exited (a zombie is not running).
     */
    public static long startTicks(long pid) {
        var stat = stat(pid);
        return stat == null || exited(stat) ? -1 : stat.getC().get(ProcessStat.PidStat.STARTTIME);
    }

    /** This process's effective capabilities (CapEff in /proc/self/status); empty when /proc is not mounted. */
    public static Optional<BigInteger> effectiveCapabilities() {
        String caps = FileUtil.getKeyValueMapFromFile("/proc/self/status", ":").get("CapEff");
        return caps == null ? Optional.empty() : Optional.of(new BigInteger(caps.strip(), 16));
    }

    /** Null when /proc/PID/stat is gone (or the pid is out of range). */
    private static Triplet<String, Character, Map<ProcessStat.PidStat, Long>> stat(long pid) {
        return pid <= 0 || pid > Integer.MAX_VALUE ? null : ProcessStat.getPidStats((int) pid);
    }

    private static boolean exited(Triplet<String, Character, Map<ProcessStat.PidStat, Long>> stat) {
        return switch (ProcessStat.getState(stat.getB())) {
            case ZOMBIE, INVALID -> true;
            default -> false;
        };
    }
}
