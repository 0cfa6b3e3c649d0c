package io.bpfcharge.migrate;

import io.bpfcharge.bpf.InventoryIterators;
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
 */
final class Quiescence {
    /** How long short-lived holders get to close the map; a holder still there after it is a long-lived one. */
    static final Duration WAIT = Duration.ofSeconds(1);

    private Quiescence() {}

    /**
     * Waits until the map has no user references but this process's {@code ours} (fds and pins) and no loaded
     * program uses it, at most {@code wait} ({@link Duration#ZERO}: one look).
     * @return empty when nothing else holds it (or it is gone), else who does, for a message
     */
    static Optional<String> await(InventoryIterators it, int mapId, int ours, Duration wait) {
        long deadline = System.nanoTime() + wait.toNanos();
        while (true) {
            long users = it.users(mapId);
            if (users <= ours && programs(mapId).isEmpty()) return Optional.empty();
            if (System.nanoTime() >= deadline) return Optional.of(holders(it, mapId));
            try {
                Thread.sleep(2);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return Optional.of(holders(it, mapId));
            }
        }
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
    private static String holders(InventoryIterators it, int mapId) {
        List<String> found = new ArrayList<>();
        long self = ProcessHandle.current().pid();
        for (InventoryIterators.Holder h : it.holders().getOrDefault(mapId, List.of()))
            if (h.pid() != self) found.add(MapRecord.ProcessHolder.of(h.pid(), h.comm()).describe());
        found.addAll(programs(mapId));
        return found.isEmpty() ? "a pin made during the migration" : String.join(", ", found);
    }

    /** Loaded programs that use the map directly (a program being freed is no longer listed). */
    private static List<String> programs(int mapId) {
        return ProgFd.loaded().stream().filter(p -> p.mapIds().contains(mapId))
                .map(p -> "program " + p.id() + " (" + p.name() + ")").toList();
    }
}
