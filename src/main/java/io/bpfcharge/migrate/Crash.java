package io.bpfcharge.migrate;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Fault injection for the recovery tests, at named steps of a migration; unset in production, where this does
 * nothing. {@code BPFCHARGE_CRASH_AT=STEP} halts the process at that step without any cleanup, as a kill -9
 * would leave it. {@code BPFCHARGE_PAUSE_AT=STEP[,STEP...]} makes it wait there: it announces itself with an empty file
 * {@code $BPFCHARGE_PAUSE_DIR/STEP-PID} and goes on once that file is removed, so a test can act at that exact
 * moment (kill the process, open a pin, write) and then release it.
 */
final class Crash {
    private static volatile Faults faults = Faults.NONE;
    /** A paused process that nobody releases goes on after this long rather than hang a test run. */
    private static final long PAUSE_MAX_MS = 120_000;
    static final int EXIT = 137;
    /** The steps in the map-creating helper (create_helper.c): inside the target before the create, and after the pin. */
    private static final List<String> HELPER_STEPS = List.of("helper", "helper_pinned");
    private static final Set<String> paused = new HashSet<>();

    private Crash() {}

    static void install(Faults f) { faults = f; }

    static void point(String step) {
        Faults f = faults;
        if (step.equals(f.crashAt())) Runtime.getRuntime().halt(EXIT);
        if (f.pauseAt().contains(step) && f.pauseDir() != null && paused.add(step)) {
            // steps that repeat (swap, copy, reconcile) pause the first time only
            pause(f.pauseDir().resolve(step + "-" + ProcessHandle.current().pid()));
        }
    }

    /** The helper's own steps as its arguments: it reads no environment. */
    static List<String> helperArgs() {
        Faults f = faults;
        List<String> args = new ArrayList<>();
        for (String step : HELPER_STEPS) {
            if (step.equals(f.crashAt())) args.addAll(List.of("--crash-at", step));
            if (f.pauseAt().contains(step) && f.pauseDir() != null) args.addAll(List.of("--pause-at", step));
        }
        if (args.contains("--pause-at")) args.addAll(List.of("--pause-dir", f.pauseDir().toString()));
        return args;
    }

    /**
     * The helper's exit code is that of an injected crash in the helper: the parent halts too, as if the whole
     * process group had been killed. A real kill -9 of the helper exits with the same code and is a failed create.
     */
    static boolean injectedInHelper(int exit) {
        String at = faults.crashAt();
        return exit == EXIT && at != null && HELPER_STEPS.contains(at); // List.of(...).contains(null) throws
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
