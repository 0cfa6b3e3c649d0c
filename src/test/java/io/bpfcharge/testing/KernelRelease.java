package io.bpfcharge.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The running kernel's version, for checks whose expected values changed between kernels. */
public final class KernelRelease {
    private KernelRelease() {}

    public static String release() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/osrelease")).trim();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read /proc/sys/kernel/osrelease", e);
        }
    }

    /** Whether the running kernel is at least major.minor (e.g. 6.4: fdinfo memlock is exact). */
    public static boolean atLeast(int major, int minor) {
        String[] p = release().split("[.-]");
        int maj = Integer.parseInt(p[0]), min = Integer.parseInt(p[1]);
        return maj > major || (maj == major && min >= minor);
    }
}
