package io.bpfcharge.migrate;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

/**
 * Fault injection for the recovery tests, at named steps of a migration; unset in production, where this does
 * nothing. {@code BPFCHARGE_CRASH_AT=STEP} halts the process at that step without any cleanup, as a kill -9
 * would leave it. {@code BPFCHARGE_PAUSE_AT=STEP[,STEP...]} makes it wait there: it announces itself with an empty file
 * {@code $BPFCHARGE_PAUSE_DIR/STEP-PID} and goes on once that file is removed, so a test can act at that exact
 * moment (kill the process, open a pin, write) and then release it.
 */
final class Crash {
    private static final String AT = System.getenv("BPFCHARGE_CRASH_AT");
    private static final Set<String> PAUSE_AT = System.getenv("BPFCHARGE_PAUSE_AT") == null ? Set.of()
            : Set.of(System.getenv("BPFCHARGE_PAUSE_AT").split(","));
    private static final String PAUSE_DIR = System.getenv("BPFCHARGE_PAUSE_DIR");
    /** A paused process that nobody releases goes on after this long rather than hang a test run. */
    private static final long PAUSE_MAX_MS = 120_000;
    static final int EXIT = 137;
    private static final Set<String> paused = new HashSet<>();

    private Crash() {}

    static void point(String step) {
        if (step.equals(AT)) Runtime.getRuntime().halt(EXIT);
        if (PAUSE_AT.contains(step) && PAUSE_DIR != null && paused.add(step)) {
            // steps that repeat (swap, copy, reconcile) pause the first time only
            pause(Path.of(PAUSE_DIR, step + "-" + ProcessHandle.current().pid()));
        }
    }

    /**
     * The helper's exit code is that of an injected crash in the helper: the parent halts too, as if the whole
     * process group had been killed. A real kill -9 of the helper exits with the same code and is a failed create.
     */
    static boolean injectedInHelper(int exit) {
        return exit == EXIT && AT != null && AT.startsWith("helper");
    }

    private static void pause(Path flag) {
        try {
            Files.createFile(flag);
            long deadline = System.currentTimeMillis() + PAUSE_MAX_MS;
            while (Files.exists(flag) && System.currentTimeMillis() < deadline) Thread.sleep(5);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
