package io.bpfcharge.testing;

import java.io.IOException;
import java.util.List;

/** What the host's own tools say the node is, to check bpfcharge's reading of it against. */
public final class HostTools {
    private HostTools() {}

    /** The facts doctor and the node metrics show, as strings: uname -r, getconf, free, the shell's os-release. */
    public record Facts(String os, String kernel, int cpus, long memoryBytes, long swapBytes) {}

    public static Facts read() throws IOException, InterruptedException {
        String[] mem = line(sh("free -b"), "Mem:"), swap = line(sh("free -b"), "Swap:");
        return new Facts(sh(". /etc/os-release && printf %s \"$PRETTY_NAME\""), sh("uname -r"),
                Integer.parseInt(sh("getconf _NPROCESSORS_ONLN")), Long.parseLong(mem[1]), Long.parseLong(swap[1]));
    }

    private static String[] line(String text, String prefix) {
        return text.lines().filter(l -> l.startsWith(prefix)).findFirst().orElseThrow(() -> new AssertionError(text)).split("\\s+");
    }

    private static String sh(String script) throws IOException, InterruptedException {
        Cli.Result r = Cli.exec(List.of("sh", "-c", script), null);
        if (r.exit() != 0) throw new IOException(script + ": exit " + r.exit() + ": " + r.err());
        return r.out().strip();
    }
}
