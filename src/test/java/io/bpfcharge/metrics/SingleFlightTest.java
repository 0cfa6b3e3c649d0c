package io.bpfcharge.metrics;

import io.bpfcharge.testing.TimeScale;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SingleFlightTest {
    @Test
    void concurrentCallersShareOneComputation() throws Exception {
        int callers = 16;
        AtomicInteger runs = new AtomicInteger();
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger running = new AtomicInteger(), maxRunning = new AtomicInteger();
        SingleFlight<Integer> f = new SingleFlight<>(() -> {
            maxRunning.accumulateAndGet(running.incrementAndGet(), Math::max);
            try {
                release.await();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            running.decrementAndGet();
            return runs.incrementAndGet();
        }, Duration.ZERO);
        AtomicIntegerArray results = new AtomicIntegerArray(callers);
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < callers; i++) {
            int caller = i;
            threads.add(Thread.ofPlatform().start(() -> results.set(caller, f.get())));
        }
        try {
            // Released only once every caller is parked, in the computation or waiting for it: a caller arriving
            // after the release would rightly start a second computation (max age 0), however unlikely on a busy machine.
            awaitParked(threads);
        } finally {
            release.countDown();
            for (Thread t : threads) t.join(TimeScale.of(Duration.ofSeconds(10)));
        }
        for (int i = 0; i < callers; i++) assertEquals(1, results.get(i), "caller " + i);
        assertEquals(1, runs.get());
        assertEquals(1, maxRunning.get());
        assertEquals(2, f.get(), "with max age 0, a later call computes again");
    }

    /** Waits until every thread is parked (a latch, a future); a thread still on its way runs or is blocked on a monitor. */
    private static void awaitParked(List<Thread> threads) throws InterruptedException {
        long end = System.nanoTime() + TimeScale.of(Duration.ofSeconds(10)).toNanos();
        while (!threads.stream().allMatch(SingleFlightTest::parked)) {
            if (System.nanoTime() > end)
                throw new AssertionError("callers not all waiting: " + threads.stream().map(t -> t.getName() + " " + t.getState()).toList());
            Thread.sleep(1);
        }
    }

    private static boolean parked(Thread t) {
        StackTraceElement[] stack = t.getStackTrace();
        return t.getState() == Thread.State.WAITING && stack.length > 0
                && stack[0].getClassName().equals("jdk.internal.misc.Unsafe") && stack[0].getMethodName().equals("park");
    }

    @Test
    void reusesAResultYoungerThanMaxAge() {
        AtomicInteger runs = new AtomicInteger();
        SingleFlight<Integer> f = new SingleFlight<>(runs::incrementAndGet, Duration.ofMinutes(5));
        assertEquals(1, f.get());
        assertEquals(1, f.get());
        assertEquals(1, runs.get());
    }

    @Test
    void aFailureReachesEveryWaiterAndTheNextCallRetries() {
        AtomicInteger runs = new AtomicInteger();
        SingleFlight<Integer> f = new SingleFlight<>(() -> {
            if (runs.incrementAndGet() == 1) throw new IllegalStateException("scan failed");
            return runs.get();
        }, Duration.ofMinutes(5));
        IllegalStateException e = assertThrows(IllegalStateException.class, f::get);
        assertTrue(e.getMessage().contains("scan failed"));
        assertEquals(2, f.get());
    }
}
