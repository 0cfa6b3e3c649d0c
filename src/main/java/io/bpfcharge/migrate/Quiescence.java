package io.bpfcharge.migrate;

import io.bpfcharge.bpf.BpfException;
import io.bpfcharge.bpf.InventoryIterators;
import io.bpfcharge.bpf.MapFd;
import io.bpfcharge.bpf.MapRefs;
import io.bpfcharge.bpf.ProgFd;
import io.bpfcharge.inventory.MapRecord;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Whether anything but this migration still holds a map that its slots and pins no longer reach: a process
 * that opened the pin before the rename (or the map by id) and can still write through its fd, or a loaded
 * program that uses it. Told by the kernel's count of user references (fds and pins, also an fd still being
 * opened, which a look at processes' fds would miss) and the loaded programs' map lists. Writers that open
 * the pin for each write hold it for microseconds, so a short wait lets them finish.
 * <p>
 * The counts come from {@link MapRefs}, a program loaded against this one map (microseconds a look), not from
 * the inventory iterator's walk over every map in the kernel (milliseconds at thousands of maps). Its total
 * count also answers "no program uses it" without opening every loaded program, when nothing but users and
 * the lookup itself reference the map. Close it before waiting for the map to be freed: it holds a reference.
 */
final class Quiescence implements AutoCloseable {
    /** How long short-lived holders get to close the map; a holder still there after it is a long-lived one. */
    static final Duration WAIT = Duration.ofSeconds(1);
    /** Shortest pause between looks; a look that took longer (the iterator's walk) pauses as long as it took. */
    private static final long PAUSE_NANOS = 2_000_000;

    private final InventoryIterators it;
    private final int mapId;
    /** Null when the kernel refused the lookup program for this map: the iterator's walk counts users then. */
    private final MapRefs refs;

    private Quiescence(InventoryIterators it, int mapId, MapRefs refs) {
        this.it = it;
        this.mapId = mapId;
        this.refs = refs;
    }

    /** Looks at {@code map} (whose id is {@code mapId}) until {@link #close}. */
    static Quiescence of(InventoryIterators it, MapFd map, int mapId) {
        try {
            return new Quiescence(it, mapId, MapRefs.load(map));
        } catch (BpfException e) {
            return new Quiescence(it, mapId, null); // a map type whose fields the verifier does not let programs read
        }
    }

    /**
     * Waits until the map has no user references but this process's {@code ours} (fds and pins) and no loaded
     * program uses it, at most {@code wait} ({@link Duration#ZERO}: one look).
     * @return empty when nothing else holds it (or it is gone), else who does, for a message
     */
    Optional<String> await(int ours, Duration wait) {
        long deadline = System.nanoTime() + wait.toNanos();
        while (true) {
            long start = System.nanoTime();
            if (quiet(ours)) return Optional.empty();
            long now = System.nanoTime();
            if (now >= deadline) return Optional.of(holders());
            try {
                Thread.sleep(Duration.ofNanos(Math.max(PAUSE_NANOS, now - start)));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return Optional.of(holders());
            }
        }
    }

    private boolean quiet(int ours) {
        if (refs == null) return it.users(mapId) <= ours && programs().isEmpty();
        MapRefs.Counts c = refs.read();
        return c.users() <= ours && (c.others() == 0 || programs().isEmpty());
    }

    /**
     * Waits until no process but this one has an fd on the map, at most {@link #WAIT}: a scan that saw a
     * writer which opens the pin for each write saw it mid-write. False when one still has it open.
     */
    static boolean awaitNoProcess(InventoryIterators it, int mapId) {
        long deadline = System.nanoTime() + WAIT.toNanos(), self = ProcessHandle.current().pid();
        return Poll.until(deadline, 2, () -> it.holders().getOrDefault(mapId, List.of()).stream().allMatch(h -> h.pid() == self));
    }

    /** "process 42 (app, user ..., running 3 h), program 7 (xdp)", or what else can hold a map when neither is seen. */
    private String holders() {
        List<String> found = new ArrayList<>();
        long self = ProcessHandle.current().pid();
        for (InventoryIterators.Holder h : it.holders().getOrDefault(mapId, List.of()))
            if (h.pid() != self) found.add(MapRecord.ProcessHolder.of(h.pid(), h.comm()).describe());
        found.addAll(programs());
        return found.isEmpty() ? "a pin made during the migration" : String.join(", ", found);
    }

    /** Loaded programs that use the map directly (a program being freed is no longer listed), but the lookup's. */
    private List<String> programs() {
        int own = refs == null ? -1 : refs.programId();
        return ProgFd.loaded().stream().filter(p -> p.id() != own && p.mapIds().contains(mapId))
                .map(p -> "program " + p.id() + " (" + p.name() + ")").toList();
    }

    @Override
    public void close() {
        if (refs != null) refs.close();
    }
}
