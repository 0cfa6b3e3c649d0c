package io.bpfcharge.migrate;

import io.bpfcharge.BpfchargeException;
import io.bpfcharge.BpfchargeException.Exit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * The node's migration directories. {@code path}: every migration's journal and the history
 * ({@code migrations.jsonl}) that the daemon counts; tmpfs by default, since map ids and pins do not survive a
 * reboot either. {@code baselines}: the copies of map contents a migration compares with (a record per entry,
 * as large as the map's keys and values), on disk by default, so that the page cache holding them can be
 * written back and reclaimed instead of pinning a second copy of a large map in memory. Shared by every
 * bpfcharge process on the node (CLI, hook, daemon), so that any of them finishes what another left; the
 * command layer chooses them.
 */
public record RunDir(Path path, Path baselines) {
    private static final Path DEFAULT = Path.of("/run/bpfcharge"), DEFAULT_STATE = Path.of("/var/lib/bpfcharge");

    /** Journals and baselines in one directory (tests, and a run directory chosen for both). */
    public RunDir(Path path) { this(path, path); }

    /**
     * @param run $BPFCHARGE_RUN_DIR, or /run/bpfcharge when unset or empty
     * @param state $BPFCHARGE_STATE_DIR, or /var/lib/bpfcharge: baselines go to {@code baselines/BOOT_ID} below it
     * @param bootId this boot's id: baselines of earlier boots belong to journals a reboot removed, and go
     */
    public static RunDir of(String run, String state, String bootId) {
        Path root = (state == null || state.isBlank() ? DEFAULT_STATE : Path.of(state)).resolve("baselines");
        dropOtherBoots(root, bootId);
        return new RunDir(run == null || run.isEmpty() ? DEFAULT : Path.of(run), root.resolve(bootId));
    }

    private static void dropOtherBoots(Path root, String bootId) {
        if (!Files.isDirectory(root)) return;
        try (DirectoryStream<Path> boots = Files.newDirectoryStream(root)) {
            for (Path boot : boots) {
                if (boot.getFileName().toString().equals(bootId)) continue;
                try (var files = Files.list(boot)) {
                    for (Path f : (Iterable<Path>) files::iterator) Files.deleteIfExists(f);
                }
                Files.deleteIfExists(boot);
            }
        } catch (IOException ignored) {
            // best effort: what is left is retried by the next process, and the files are on disk, not in memory
        }
    }

    /** One JSON line per finished migration attempt ({@link MigrationHistory}). */
    public Path history() { return path.resolve("migrations.jsonl"); }

    Path journal(int oldId) { return path.resolve("journal-" + oldId + ".json"); }

    /** Every baseline file of the migration of map {@code oldId} with {@code token} (see {@link #file}'s names). */
    void dropBaselines(int oldId, String token) {
        if (!Files.isDirectory(baselines)) return;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(baselines, "*-" + oldId + "-" + token + "*.bin")) {
            for (Path f : files) Files.deleteIfExists(f);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove baselines in " + baselines + ": " + e.getMessage(), e);
        }
    }

    /** A migration's baseline file, named after the map and the run's token; its directory is made (mode 0700). */
    Path file(String name) {
        try {
            if (!Files.isDirectory(baselines))
                Files.createDirectories(baselines, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (IOException e) {
            throw new BpfchargeException(Exit.ENVIRONMENT, "cannot make the baseline directory " + baselines + " ("
                    + e.getMessage() + "): set BPFCHARGE_STATE_DIR to a writable directory on disk", e);
        }
        return baselines.resolve(name);
    }
}
