package io.bpfcharge.agent;

import io.bpfcharge.migrate.Result;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * What the agent remembers between reconciles, so that a steady state is quiet: results already reported per
 * container start (a refused map is reported once per start, not every interval), when each start was first
 * seen and whether its maps were charged yet, and each map's back-off after a failure.
 */
final class Ledger {
    static final Duration FIRST_BACKOFF = Duration.ofSeconds(2), MAX_BACKOFF = Duration.ofMinutes(10);

    private static final class Start {
        final long firstSeen;
        final Map<String, Result> reported = new HashMap<>();
        final Set<String> migrated = new HashSet<>();
        boolean charged;

        Start(long firstSeen) { this.firstSeen = firstSeen; }
    }

    private record Backoff(long due, Duration delay) {}

    private final Map<Container.Instance, Start> starts = new HashMap<>();
    private final Map<String, Backoff> backoff = new HashMap<>();

    /** Forgets container starts that no longer run; remembers when new ones were first seen. */
    void running(Set<Container.Instance> live, long now) {
        starts.keySet().retainAll(live);
        for (Container.Instance i : live) starts.computeIfAbsent(i, k -> new Start(now));
    }

    /**
     * Whether {@code result} (null: no map, e.g. no pin matched) for {@code key} (a pin and map id) of this container
     * start is news: a
     * migration always is; anything else only when it differs from what was last reported for that key, and
     * "unchanged" never after the agent itself migrated the pin (the replacement is a new map).
     */
    boolean report(Container.Instance i, String key, String pin, Result result) {
        Start s = starts.get(i);
        if (result == Result.MIGRATED) {
            s.migrated.add(pin);
            s.reported.put(key, result);
            return true;
        }
        if (result == Result.UNCHANGED && s.migrated.contains(pin)) return false;
        boolean seen = s.reported.containsKey(key) && s.reported.get(key) == result;
        s.reported.put(key, result);
        return !seen;
    }

    /**
     * Nanoseconds from first seen to now, the first time every claimed map of this start is charged to it;
     * otherwise -1.
     */
    long charged(Container.Instance i, long now) {
        Start s = starts.get(i);
        if (s.charged) return -1;
        s.charged = true;
        return now - s.firstSeen;
    }

    /** True when a migration of this map may be tried now (it is not backing off after a failure). */
    boolean due(String map, long now) {
        Backoff b = backoff.get(map);
        return b == null || now - b.due >= 0;
    }

    /** A failed or refused try: wait twice as long as last time before the next one (2 s up to 10 min). */
    void failed(String map, long now) {
        Backoff b = backoff.get(map);
        Duration d = b == null ? FIRST_BACKOFF : min(b.delay.multipliedBy(2), MAX_BACKOFF);
        backoff.put(map, new Backoff(now + d.toNanos(), d));
    }

    void succeeded(String map) { backoff.remove(map); }

    /** Forgets back-offs of maps no container claims any more. */
    void claimed(Set<String> maps) { backoff.keySet().retainAll(maps); }

    /** When the earliest back-off ends, or {@code orElse}. */
    long nextDue(long orElse) {
        return backoff.values().stream().mapToLong(Backoff::due).reduce(orElse, (a, b) -> a - b < 0 ? a : b);
    }

    private static Duration min(Duration a, Duration b) { return a.compareTo(b) <= 0 ? a : b; }
}
