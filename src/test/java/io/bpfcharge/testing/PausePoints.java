package io.bpfcharge.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

/**
 * Processes paused at a migration step (BPFCHARGE_PAUSE_AT, see io.bpfcharge.migrate.Crash): each announces
 * itself with a file STEP-PID in a private directory and waits until it is removed. A test waits for the pause,
 * acts (kills the process, opens a pin, writes), then releases it. close() releases whatever still waits.
 */
public final class PausePoints implements AutoCloseable {
    private final Path dir;
    private final Set<String> seen = new HashSet<>(); // STEP-PID: one process may pause at several steps

    public PausePoints() throws IOException { dir = Files.createTempDirectory("bpfcharge-pause"); }

    /** Where paused processes announce themselves. */
    public Path dir() { return dir; }

    /** The environment that makes bpfcharge (and its helper, which inherits it) pause at {@code step} (or steps: a,b). */
    public List<String> env(String step) {
        return List.of("BPFCHARGE_PAUSE_AT=" + step, "BPFCHARGE_PAUSE_DIR=" + dir);
    }

    /** {@code cmd} run through env(1) with {@link #env} added. */
    public List<String> command(String step, List<String> cmd) {
        List<String> out = new ArrayList<>(List.of("env"));
        out.addAll(env(step));
        out.addAll(cmd.getFirst().equals("env") ? cmd.subList(1, cmd.size()) : cmd);
        return out;
    }

    /** Waits (at most 60 s) until a process not returned before pauses; returns its pid. */
    public long await() throws IOException, InterruptedException {
        return awaitWhile(() -> true).orElseThrow(() -> new AssertionError("no process paused within 60 s (" + dir + ")"));
    }

    /**
     * Like {@link #await}, but gives up (empty) as soon as {@code running} says the process that would pause has
     * ended: a step a run never reaches (an empty map's copy, a rollback's unswap) pauses nothing.
     */
    public OptionalLong awaitWhile(BooleanSupplier running) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (System.nanoTime() < deadline) {
            boolean last = !running.getAsBoolean(); // look once more after it ended: it may have paused just before
            try (Stream<Path> s = Files.list(dir)) {
                for (Path p : s.toList()) {
                    String name = p.getFileName().toString();
                    long pid = Long.parseLong(name.substring(name.lastIndexOf('-') + 1));
                    if (seen.add(name)) return OptionalLong.of(pid);
                }
            }
            if (last) return OptionalLong.empty();
            Thread.sleep(5);
        }
        return OptionalLong.empty();
    }

    /** Lets the paused process {@code pid} go on. */
    public void release(long pid) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.filter(p -> p.getFileName().toString().endsWith("-" + pid)).toList()) Files.delete(p);
        }
    }

    /** kill -9: what the OOM killer or a container teardown does to a process. */
    public static void kill9(long pid) throws IOException, InterruptedException {
        Process k = new ProcessBuilder("kill", "-9", Long.toString(pid)).start();
        if (k.waitFor() != 0) throw new AssertionError("kill -9 " + pid + " failed");
    }

    @Override
    public void close() throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
