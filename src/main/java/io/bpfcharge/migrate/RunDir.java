package io.bpfcharge.migrate;

import java.nio.file.Path;

/**
 * The node's migration directory: every migration's journal and baselines, and the history
 * ({@code migrations.jsonl}) that the daemon counts. Shared by every bpfcharge process on the node (CLI, hook,
 * daemon), so that any of them finishes what another left; the command layer chooses it.
 */
public record RunDir(Path path) {
    private static final Path DEFAULT = Path.of("/run/bpfcharge");

    /** {@code configured} ($BPFCHARGE_RUN_DIR), or /run/bpfcharge when it is unset or empty. */
    public static RunDir of(String configured) {
        return new RunDir(configured == null || configured.isEmpty() ? DEFAULT : Path.of(configured));
    }

    /** One JSON line per finished migration attempt ({@link MigrationHistory}). */
    public Path history() { return path.resolve("migrations.jsonl"); }

    Path journal(int oldId) { return path.resolve("journal-" + oldId + ".json"); }

    /** A migration's file: its baselines, named after the map and the run's token. */
    Path file(String name) { return path.resolve(name); }
}
