package io.bpfcharge.metrics;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SingleFlightTest {
    @Test
    void concurrentCallersShareOneComputation() throws Exception {
        AtomicInteger runs = new AtomicInteger();
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger running = new AtomicInteger(), maxRunning = new AtomicInteger();
        SingleFlight<Integer> f = new SingleFlight<>(() -> {
            maxRunning.accumulateAndGet(running.incrementAndGet(), Math::max);
            try {
                release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            running.decrementAndGet();
            return runs.incrementAndGet();
        }, Duration.ZERO);
        try (ExecutorService pool = Executors.newFixedThreadPool(16)) {
            List<Future<Integer>> results = new ArrayList<>();
            for (int i = 0; i < 16; i++) results.add(pool.submit(f::get));
            Thread.sleep(200); // let every caller arrive while the first computation is blocked
            release.countDown();
            for (Future<Integer> r : results) assertEquals(1, r.get(10, TimeUnit.SECONDS));
        }
        assertEquals(1, runs.get());
        assertEquals(1, maxRunning.get());
        assertEquals(2, f.get(), "with max age 0, a later call computes again");
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
