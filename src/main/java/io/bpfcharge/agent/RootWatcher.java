package io.bpfcharge.agent;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static java.nio.file.StandardWatchEventKinds.ENTRY_CREATE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_DELETE;
import static java.nio.file.StandardWatchEventKinds.ENTRY_MODIFY;

/**
 * Wakes the agent when a runtime writes under its state roots: inotify on Linux (the JDK's WatchService),
 * one watch per root, namespace and container directory, so a container's state file appearing is seen
 * (a new directory is watched from the next {@link #rewatch}). Costs nothing while no container changes.
 */
final class RootWatcher implements AutoCloseable {
    /** A runtime writes several files per container start: one wake-up for them all. */
    private static final Duration SETTLE = Duration.ofMillis(20);

    private final WatchService service;
    private final Map<Path, WatchKey> keys = new HashMap<>();

    RootWatcher() throws IOException { service = FileSystems.getDefault().newWatchService(); }

    /** Watches every directory the roots have now; drops watches of directories that are gone. */
    void rewatch(RuntimeRoots roots) {
        keys.values().removeIf(k -> !k.isValid());
        for (Path dir : roots.watched()) {
            if (keys.containsKey(dir)) continue;
            try {
                keys.put(dir, dir.register(service, ENTRY_CREATE, ENTRY_DELETE, ENTRY_MODIFY));
            } catch (IOException e) {
                // removed meanwhile
            }
        }
    }

    /** Waits up to {@code timeout} for a change; true when one came (and the writes around it settled). */
    boolean await(Duration timeout) throws InterruptedException {
        try {
            WatchKey k = service.poll(Math.max(0, timeout.toNanos()), TimeUnit.NANOSECONDS);
            if (k == null) return false;
            for (; k != null; k = service.poll(SETTLE.toNanos(), TimeUnit.NANOSECONDS)) {
                k.pollEvents();
                k.reset();
            }
            return true;
        } catch (ClosedWatchServiceException e) {
            return false;
        }
    }

    @Override
    public void close() throws IOException { service.close(); }
}
