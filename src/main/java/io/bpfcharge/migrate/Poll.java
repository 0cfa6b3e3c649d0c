package io.bpfcharge.migrate;

import java.util.function.BooleanSupplier;

/** Waiting for the kernel to catch up (a map freed, a memcg uncharged, a writer's fd closed), bounded. */
final class Poll {
    private Poll() {}

    /** Polls {@code done} every {@code everyMillis} until it holds (true), the deadline passes or the thread is interrupted. */
    static boolean until(long deadlineNanos, long everyMillis, BooleanSupplier done) {
        while (System.nanoTime() < deadlineNanos) {
            if (done.getAsBoolean()) return true;
            try {
                Thread.sleep(everyMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return false;
    }
}
