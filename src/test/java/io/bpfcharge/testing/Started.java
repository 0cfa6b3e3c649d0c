package io.bpfcharge.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.fail;

/** A container a runtime test started: its id, its init's pid and the file its stdout and stderr go to. */
public record Started(String id, long pid, Path output) {
    /** Waits until the container printed {@code line} (e.g. pinwriter's "holding"), at most {@code timeout} (scaled). */
    public void await(String line, Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeScale.of(timeout).toNanos();
        while (!Files.exists(output) || !Files.readAllLines(output).contains(line)) {
            if (System.nanoTime() > deadline)
                fail(id + " did not print \"" + line + "\": " + (Files.exists(output) ? Files.readString(output) : "(no output)"));
            Thread.sleep(20);
        }
    }
}
