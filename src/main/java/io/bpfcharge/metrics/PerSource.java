package io.bpfcharge.metrics;

import java.net.InetAddress;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Open connections per client address, capped so that one client cannot take every connection slot: with 2,000
 * sockets from one address, no health probe from another got an answer. 0 means no cap.
 */
final class PerSource {
    private final int max;
    private final ConcurrentHashMap<InetAddress, Integer> open = new ConcurrentHashMap<>();

    PerSource(int max) { this.max = max; }

    /** Takes a slot for {@code from}; false when it holds {@code max} already. */
    boolean tryAcquire(InetAddress from) {
        if (max == 0) return true;
        boolean[] taken = {false};
        open.compute(from, (a, n) -> {
            int now = n == null ? 0 : n;
            if (now >= max) return n;
            taken[0] = true;
            return now + 1;
        });
        return taken[0];
    }

    /** Gives back a slot {@link #tryAcquire} took. */
    void release(InetAddress from) {
        if (max != 0) open.computeIfPresent(from, (a, n) -> n == 1 ? null : n - 1);
    }
}
