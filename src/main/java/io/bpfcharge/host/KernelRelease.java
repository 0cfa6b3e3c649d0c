package io.bpfcharge.host;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The running kernel's release ("6.18.4-amd64"), as uname -r prints it: for doctor, the build and node info metrics and version checks. */
public final class KernelRelease {
    private KernelRelease() {}

    /** Whether the running kernel is at least {@code major.minor}; false when its release cannot be read. */
    public static boolean atLeast(int major, int minor) {
        String[] p = running().split("[.-]");
        try {
            int maj = Integer.parseInt(p[0]), min = Integer.parseInt(p[1]);
            return maj > major || (maj == major && min >= minor);
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** Empty when /proc is not mounted. */
    public static String running() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/osrelease")).trim();
        } catch (IOException e) {
            return "";
        }
    }
}
