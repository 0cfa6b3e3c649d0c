package io.bpfcharge.testing;

import java.time.Duration;
import java.util.concurrent.Callable;

/**
 * Waiting for an event the test cannot be told about (a file's content, a process's state, a map freed by the
 * kernel's workqueue): polls until it holds, within a bound scaled by {@link TimeScale}. The bound only ends a
 * test that would otherwise hang; it is never what the test checks.
 */
public final class Await {
    private Await() {}

    /** Polls {@code done} every 20 ms for at most 10 s (scaled); returns how many tries it took. */
    public static int until(String what, Callable<Boolean> done) throws Exception {
        return until(what, Duration.ofSeconds(10), done);
    }

    public static int until(String what, Duration bound, Callable<Boolean> done) throws Exception {
        Duration scaled = TimeScale.of(bound);
        long end = System.nanoTime() + scaled.toNanos();
        for (int tries = 1; ; tries++) {
            if (done.call()) return tries;
            if (System.nanoTime() > end) throw new AssertionError(what + ": not within " + scaled.toSeconds() + " s");
            Thread.sleep(20);
        }
    }
}
