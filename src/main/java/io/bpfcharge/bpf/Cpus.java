package io.bpfcharge.bpf;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The number of possible CPUs, which sizes per-CPU map values seen from user space; and running code on
 * one CPU, for writes that the kernel files per CPU (an LRU map's per-CPU lists).
 */
public final class Cpus {
    private static final int POSSIBLE = parse(read());
    /** cpu_set_t for every possible CPU, in whole words, at least glibc's 1024 bits. */
    private static final long MASK_BYTES = Math.max(128, (POSSIBLE + 63) / 64 * 8);

    private Cpus() {}

    public static int possible() { return POSSIBLE; }

    /** The CPUs this thread may run on (its affinity mask, e.g. narrowed by a cpuset or taskset). */
    public static List<Integer> allowed() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment mask = affinity(arena);
            List<Integer> cpus = new ArrayList<>();
            for (int cpu = 0; cpu < MASK_BYTES * 8; cpu++)
                if ((mask.get(Native.JAVA_BYTE, cpu / 8) & (1 << (cpu % 8))) != 0) cpus.add(cpu);
            return cpus;
        }
    }

    /** Runs {@code r} with this thread pinned to {@code cpu}, then gives the thread its mask back. */
    public static void runOn(int cpu, Runnable r) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment before = affinity(arena);
            MemorySegment one = arena.allocate(MASK_BYTES, 8);
            one.set(Native.JAVA_BYTE, cpu / 8, (byte) (1 << (cpu % 8)));
            setAffinity(one, "pin this thread to CPU " + cpu);
            try {
                r.run();
            } finally {
                setAffinity(before, "restore this thread's CPUs");
            }
        }
    }

    private static MemorySegment affinity(Arena arena) {
        MemorySegment mask = arena.allocate(MASK_BYTES, 8);
        MemorySegment cap = Scratch.get().capture;
        int r = Native.call(() -> (int) Native.Processes.SCHED_GETAFFINITY.invokeExact(cap, 0, MASK_BYTES, mask));
        if (r < 0) throw new BpfException("read this thread's CPUs", Native.errno(cap));
        return mask;
    }

    private static void setAffinity(MemorySegment mask, String op) {
        MemorySegment cap = Scratch.get().capture;
        int r = Native.call(() -> (int) Native.Processes.SCHED_SETAFFINITY.invokeExact(cap, 0, MASK_BYTES, mask));
        if (r < 0) throw new BpfException(op, Native.errno(cap));
    }

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
