package io.bpfcharge.testing;

import io.bpfcharge.bpf.Xattrs;
import io.bpfcharge.cgroup.MemoryHierarchy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Debian's oomd 0.5.0, unpacked (not installed) by scripts/setup, run with a ruleset that only looks at and kills
 * inside one test cgroup: when the 10 s memory pressure of {@code parent} is above 10 %, kill_by_memory_size_or_growth
 * over its children. Polls every second; after a kill it waits a minute, so that a test sees one kill at a time.
 * Its log (stderr) and kill log (what it would write to /dev/kmsg) go to files in {@code dir}.
 */
public final class Oomd implements AutoCloseable {
    public static final Path BINARY = Path.of("/var/cache/bpfcharge/oomd/usr/bin/oomd");
    /** The xattr oomd sets on a cgroup it killed in (the number of processes killed). */
    public static final String KILLED = "trusted.oomd_kill";

    private final Process process;
    private final Path log;

    /** Fails under CI=true, else skips, when scripts/setup has not unpacked oomd. */
    public static void require() {
        if (Files.isExecutable(BINARY)) return;
        if ("true".equals(System.getenv("CI"))) fail(BINARY + " is missing: run scripts/setup (it unpacks Debian's oomd package there)");
        org.junit.jupiter.api.Assumptions.abort(BINARY + " is missing: run scripts/setup");
    }

    /** The ruleset: {@code rel} is the parent's path relative to the cgroup2 mount, as oomd names cgroups. */
    public static String ruleset(String rel) {
        return """
                {"rulesets": [{
                  "name": "bpfcharge test",
                  "detectors": [["memory pressure in the test cgroup",
                    {"name": "pressure_above", "args": {"cgroup": "%1$s", "resource": "memory", "threshold": "10", "duration": "1"}}]],
                  "actions": [{"name": "kill_by_memory_size_or_growth", "args": {"cgroup": "%1$s/*", "post_action_delay": "60"}}]
                }]}
                """.formatted(rel);
    }

    public Oomd(MemoryHierarchy h, String parent, Path dir) throws IOException {
        String rel = parent.substring(1);
        Path config = Files.writeString(dir.resolve("oomd.json"), ruleset(rel));
        log = dir.resolve("oomd.log");
        Path runtime = Files.createDirectories(dir.resolve("run"));
        process = new ProcessBuilder(List.of(BINARY.toString(), "--config", config.toString(), "--interval", "1",
                "--cgroup-fs", h.root().toString(), "--runtime-dir", runtime.toString(),
                "--kmsg-override", dir.resolve("kmsg").toString()))
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    /** Its log so far. */
    public String log() throws IOException { return Files.readString(log); }

    /** Whether oomd has marked this cgroup as one it killed in. */
    public static boolean killedIn(MemoryHierarchy h, String cgroup) { return Xattrs.has(h.dir(cgroup), KILLED); }

    public boolean alive() { return process.isAlive(); }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) process.destroyForcibly().waitFor();
    }
}
