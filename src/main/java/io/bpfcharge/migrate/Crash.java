package io.bpfcharge.migrate;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Step points for the recovery and concurrency tests, both off unless their variable is set (never in
 * production). {@code BPFCHARGE_CRASH_AT=STEP}: the process halts at that step without any cleanup, as a
 * kill -9 would leave it. {@code BPFCHARGE_PAUSE_AT=STEP}: the first time the process reaches that step it
 * creates {@code $BPFCHARGE_RUN_DIR/paused-STEP} and waits until the test removes it, so that another
 * process can act at exactly that step (open the pin, write).
 */
final class Crash {
    private static final String AT = System.getenv("BPFCHARGE_CRASH_AT"), PAUSE_AT = System.getenv("BPFCHARGE_PAUSE_AT");
    private static final long PAUSE_LIMIT_NS = 300_000_000_000L;
    static final int EXIT = 137;
    private static boolean paused;

    private Crash() {}

    static void point(String step) {
        if (step.equals(AT)) Runtime.getRuntime().halt(EXIT);
        if (step.equals(PAUSE_AT) && !paused) {
            paused = true;
            pause(Journal.runDir().resolve("paused-" + step));
        }
    }

    private static void pause(Path marker) {
        try {
            Files.createDirectories(marker.getParent());
            Files.writeString(marker, Long.toString(ProcessHandle.current().pid()));
            long deadline = System.nanoTime() + PAUSE_LIMIT_NS;
            while (Files.exists(marker) && System.nanoTime() < deadline) Thread.sleep(2);
            Files.deleteIfExists(marker);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
