package io.bpfcharge.metrics;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.function.Supplier;

/**
 * Coalesces concurrent callers onto one computation: a caller gets the last result while it is
 * younger than {@code maxAge}, else joins the computation in flight, else starts one. However many
 * scrapers arrive, at most one scan runs at a time.
 */
final class SingleFlight<T> {
    private final Supplier<T> compute;
    private final long maxAgeNanos;
    private CompletableFuture<T> inFlight;
    private T last;
    private long lastStarted;
    private boolean hasLast;

    SingleFlight(Supplier<T> compute, java.time.Duration maxAge) {
        this.compute = compute;
        this.maxAgeNanos = maxAge.toNanos();
    }

    T get() {
        CompletableFuture<T> f;
        boolean mine = false;
        synchronized (this) {
            // Age counts from the start of the computation: the result shows the system as it was then.
            if (hasLast && System.nanoTime() - lastStarted < maxAgeNanos) return last;
            if (inFlight == null) {
                inFlight = new CompletableFuture<>();
                mine = true;
            }
            f = inFlight;
        }
        if (mine) run(f);
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a scan", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Error err) throw err; // the serving path ends the process on an Error
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        }
    }

    private void run(CompletableFuture<T> f) {
        long started = System.nanoTime();
        try {
            T v = compute.get();
            synchronized (this) {
                last = v;
                lastStarted = started;
                hasLast = true;
                inFlight = null;
            }
            f.complete(v);
        } catch (RuntimeException | Error e) {
            synchronized (this) { inFlight = null; }
            f.completeExceptionally(e);
        }
    }
}
