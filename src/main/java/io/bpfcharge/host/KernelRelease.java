package io.bpfcharge.host;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The running kernel's release ("6.18.4-amd64"), as uname -r prints it: for doctor and the node_info metric. */
public final class KernelRelease {
    private KernelRelease() {}

    /** Empty when /proc is not mounted. */
    public static String running() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/osrelease")).trim();
        } catch (IOException e) {
            return "";
        }
    }
}
