package io.bpfcharge.host;

import oshi.util.FileUtil;
import oshi.util.ParseUtil;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * Who runs a process, for the messages and JSON that name a pid: its user, command line and start. The uid and
 * the command line come from /proc/PID/status and /proc/PID/cmdline through OSHI. The start and the user's name
 * come from the JDK's ProcessHandle: OSHI's pure-Java module leaves clock ticks per second (the unit of the start
 * in /proc/PID/stat) to its native modules, and its user lookup runs {@code getent} for every uid, while the JDK
 * asks the C library in process.
 * @param uid effective uid, as the second field of the {@code Uid:} line
 * @param user the uid's name; the uid as text when it has none (a container's user unknown to the host)
 * @param commandLine its arguments joined by spaces; empty for a kernel thread or a zombie
 * @param started when it started
 */
public record ProcessInfo(long uid, String user, String commandLine, Instant started) {
    /** Command lines longer than this are cut in messages (a Java class path can be pages long). */
    private static final int MESSAGE_COMMAND_LINE = 120;

    /** Empty when the process is gone (or exits while it is read). */
    public static Optional<ProcessInfo> of(long pid) {
        var status = FileUtil.getKeyValueMapFromFile("/proc/" + pid + "/status", ":");
        String[] uids = ParseUtil.whitespaces.split(status.getOrDefault("Uid", "").strip());
        var handle = ProcessHandle.of(pid);
        if (uids.length < 2 || handle.isEmpty()) return Optional.empty();
        long uid = ParseUtil.parseLongOrDefault(uids[1], -1);
        var info = handle.get().info();
        Optional<Instant> started = info.startInstant();
        if (uid < 0 || started.isEmpty()) return Optional.empty();
        String commandLine = String.join(" ", ParseUtil.parseByteArrayToStrings(
                FileUtil.readAllBytes("/proc/" + pid + "/cmdline", false)));
        return Optional.of(new ProcessInfo(uid, info.user().orElse(Long.toString(uid)), commandLine, started.get()));
    }

    /** "python3 /app/server.py, user app (uid 1000), running 3 h": {@code comm} stands in for an empty command line. */
    public String summary(String comm, Instant now) {
        String cmd = commandLine.isEmpty() ? comm : commandLine.length() > MESSAGE_COMMAND_LINE
                ? commandLine.substring(0, MESSAGE_COMMAND_LINE) + "..." : commandLine;
        String who = user.equals(Long.toString(uid)) ? "uid " + uid : "user " + user + " (uid " + uid + ")";
        return cmd + ", " + who + ", running " + age(Duration.between(started, now));
    }

    /** The largest whole unit: "40 s", "12 min", "3 h", "2 d". */
    static String age(Duration d) {
        long s = Math.max(0, d.toSeconds());
        if (s < 60) return s + " s";
        if (s < 3600) return s / 60 + " min";
        if (s < 86_400) return s / 3600 + " h";
        return s / 86_400 + " d";
    }
}
