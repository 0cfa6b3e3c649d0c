package io.bpfcharge.bpf;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The number of possible CPUs, which sizes per-CPU map values seen from user space. */
public final class Cpus {
    private static final int POSSIBLE = parse(read());

    private Cpus() {}

    public static int possible() { return POSSIBLE; }

    private static String read() {
        try {
            return Files.readString(Path.of("/sys/devices/system/cpu/possible")).trim();
        } catch (IOException e) {
            return Integer.toString(Runtime.getRuntime().availableProcessors() - 1);
        }
    }

    /** "0-3,5" style list: the highest CPU number plus one (the kernel counts holes as possible). */
    static int parse(String list) {
        int max = 0;
        for (String part : list.split(",")) {
            String last = part.contains("-") ? part.substring(part.indexOf('-') + 1) : part;
            max = Math.max(max, Integer.parseInt(last.trim()));
        }
        return max + 1;
    }
}
