package io.bpfcharge.migrate;

import io.bpfcharge.bpf.MapFd;
import io.bpfcharge.cgroup.MemoryHierarchy;

import java.time.Duration;
import java.util.Optional;
import java.util.OptionalLong;

/** The end of a migration: the old map's last reference is gone; the kernel frees it and uncharges its memcg. */
final class Release {
    private static final Duration WAIT = Duration.ofSeconds(10);

    private Release() {}

    /**
     * Waits until the old map is freed and its source memcg uncharged, within {@link #WAIT}. The map's id
     * goes away first; the kernel frees its memory afterwards in a work item (per-CPU memory and elements after RCU
     * grace periods), and only then does the memcg's usage fall: a 17 MB percpu_hash's source still showed its full
     * usage when the id was gone. So when the map's charge is big enough to see (memcg usage is cached per CPU, up
     * to 64 pages each), it also waits until the source's usage has fallen by half of it. False when either did not
     * happen in time.
     */
    static boolean awaitReleased(MemoryHierarchy h, int id, String source, OptionalLong before, long charge) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        if (!Poll.until(deadline, 5, () -> gone(id))) return false;
        if (charge < MigrationResult.UNCHARGE_VISIBLE || source.equals(Plan.ROOT) || before == null || before.isEmpty()) return true;
        return Poll.until(deadline, 5, () -> {
            OptionalLong now = h.usage(source);
            return now.isEmpty() || now.getAsLong() <= before.getAsLong() - charge / 2;
        });
    }

    static boolean awaitFreed(int id) {
        return Poll.until(System.nanoTime() + WAIT.toNanos(), 5, () -> gone(id));
    }

    private static boolean gone(int id) {
        Optional<MapFd> still = MapFd.find(id);
        still.ifPresent(MapFd::close);
        return still.isEmpty();
    }
}
