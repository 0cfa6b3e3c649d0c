package io.bpfcharge.migrate;

import io.bpfcharge.Mappers;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import io.bpfcharge.BpfchargeException;
import io.bpfcharge.inventory.MapRecord;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Progress of one migration, on disk under the run directory ({@code BPFCHARGE_RUN_DIR}, default
 * /run/bpfcharge), so that a migration killed at any step is finished or undone by the next run.
 * Every name a migration will create (temporary pins, the pin that keeps the old map alive, the baseline
 * file) is recorded before it is created. A migration holds a POSIX record lock (fcntl, what Java's FileChannel.tryLock takes) on its journal's lock file; the kernel
 * drops it when the process dies, which is how the next run tells an orphan from a migration in progress.
 */
final class Journal implements AutoCloseable {
    /** Names of a migration's pins in bpffs: the replacement's until the end, the old map's keep pin. */
    static final String TEMP_PREFIX = "bpfcharge_tmp_", KEEP_PREFIX = "bpfcharge_old_";

    /**
     * Before READY a crash is undone (the old map is untouched); from READY on it is finished, or, when the
     * entry says {@code undo}, its swap is reversed.
     */
    enum Phase { PREPARED, CREATED, READY, SWAPPED }

    /**
     * @param tempPin where the helper pins the replacement; stays until the end, so a resumed run finds it
     * @param keepPin a pin that keeps the old map alive until reconciled; null when nothing needs it
     * @param baseline what both maps held when the settling starts: the copy's baseline file (copy-swap); with
     *                 overwrite, after a settling pass, what that pass read from the old map; null for none (the
     *                 empty replacement of swap-backfill)
     * @param undo the swap is being reversed: something else still held the old map after it
     * @param undoBase with {@code undo} and no {@code baseline} (a backfill given back before any settling pass):
     *                 what the old map held just before its swap back; a key whose old value moved away from it
     *                 was written since, by a writer newer than the replacement's, and keeps that value
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class) // journal files: old_id, temp_pin, ...
    record Entry(Phase phase, int oldId, int newId, String token, Plan.Kind kind, String source, String target,
                 MigrationRequest.Strategy strategy, MigrationRequest.Merge merge, List<MapRecord.Slot> slots,
                 List<String> pins, String tempPin, String keepPin, String baseline, long bytes, boolean undo, String undoBase) {
        /**
         * A new migration's first entry: every name it will create, next to the map's first pin (or in
         * {@code dir}, a bpffs mount, for a map with none) and in the run directory.
         */
        static Entry prepared(Plan.Move mv, String token, Path dir, RunDir run) {
            int oldId = mv.map().id();
            // Copy-swap's baseline is written by the copy; swap-backfill starts from an empty replacement.
            String baseline = mv.strategy() == MigrationRequest.Strategy.COPY_SWAP
                    ? run.file("baseline-" + oldId + "-" + token + ".bin").toString() : null;
            return new Entry(Phase.PREPARED, oldId, 0, token, mv.kind(), mv.source(), mv.target(), mv.strategy(),
                    mv.merge(), mv.slots(), mv.pins(), dir.resolve(TEMP_PREFIX + oldId + "_" + token).toString(),
                    dir.resolve(KEEP_PREFIX + oldId + "_" + token).toString(), baseline, mv.bytes(), false, null);
        }

        Entry with(Phase p, int newId) {
            return new Entry(p, oldId, newId, token, kind, source, target, strategy, merge, slots, pins, tempPin,
                    keepPin, baseline, bytes, undo, undoBase);
        }

        Entry withBaseline(String file) {
            return new Entry(phase, oldId, newId, token, kind, source, target, strategy, merge, slots, pins, tempPin,
                    keepPin, file, bytes, undo, undoBase);
        }

        /** @param undoBase see {@link Entry}; null when the settling has a baseline to compare with */
        Entry undoing(String undoBase) {
            return new Entry(phase, oldId, newId, token, kind, source, target, strategy, merge, slots, pins, tempPin,
                    keepPin, baseline, bytes, true, undoBase);
        }

        /** The temporary name used to re-pin the replacement over the {@code i}-th pin. */
        Path repinTemp(int i) {
            return Path.of(pins.get(i)).resolveSibling(Path.of(tempPin).getFileName() + "_p" + i);
        }
    }

    private final RunDir run;
    private final Path file, lockFile;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private Entry entry;

    private Journal(RunDir run, Path file, Path lockFile, FileChannel lockChannel, FileLock lock, Entry entry) {
        this.run = run;
        this.file = file;
        this.lockFile = lockFile;
        this.lockChannel = lockChannel;
        this.lock = lock;
        this.entry = entry;
    }

    /** Removes every name an entry recorded (the undo of a migration that did not reach READY: nothing else was made). */
    static void removeNames(Entry e) {
        for (int i = 0; i < e.pins().size(); i++) delete(e.repinTemp(i).toString());
        for (String p : new String[]{e.tempPin(), e.keepPin(), e.baseline(), e.undoBase()}) delete(p);
    }

    /** Removes one recorded name (a pin or a file) if it exists; null: none was recorded. */
    static void delete(String path) {
        if (path == null) return;
        try {
            Files.deleteIfExists(Path.of(path));
        } catch (IOException ex) {
            throw new UncheckedIOException("cannot remove " + path + ": " + ex.getMessage(), ex);
        }
    }

    /** The refusal of a migration of a map whose journal another live process holds. */
    static BpfchargeException busy(int id) {
        return new BpfchargeException(BpfchargeException.Exit.REFUSED, "map " + id + " is being migrated by another "
                + "bpfcharge process: wait for it to finish (it is already on its way to a new memory cgroup)");
    }

    /** The directories this journal is in: the migration's other files go there too. */
    RunDir runDir() { return run; }

    /** Starts the journal of a new migration of map {@code e.oldId()}; null when another process is migrating it. */
    static Journal begin(RunDir run, Entry e) {
        Journal j = lock(run, run.journal(e.oldId()));
        if (j == null) return null;
        j.write(e);
        return j;
    }

    /** Journals that no live process holds: migrations a crash interrupted. */
    static List<Journal> orphans(RunDir run) {
        List<Journal> found = new ArrayList<>();
        if (!Files.isDirectory(run.path())) return found;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(run.path(), "journal-*.json")) {
            for (Path f : ds) {
                Journal j = lock(run, f);
                if (j == null) continue;
                j.entry = read(f);
                if (j.entry == null) j.finish(); // torn or empty: written before anything was created
                else found.add(j);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return found;
    }

    /** Whether any journal exists (a migration running, or one to recover). */
    static boolean any(RunDir run) {
        if (!Files.isDirectory(run.path())) return false;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(run.path(), "journal-*.json")) {
            return ds.iterator().hasNext();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Entries of migrations other runs are doing now (their journals are locked). */
    static List<Entry> active(RunDir run) {
        List<Entry> found = new ArrayList<>();
        if (!Files.isDirectory(run.path())) return found;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(run.path(), "journal-*.json")) {
            for (Path f : ds) {
                Journal j = lock(run, f);
                if (j != null) {
                    j.close(); // an orphan: recovery's, not a migration in progress
                    continue;
                }
                Entry e = read(f);
                if (e != null) found.add(e);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return found;
    }

    private static Journal lock(RunDir run, Path file) {
        try {
            Files.createDirectories(file.getParent());
            Path lockFile = file.resolveSibling(file.getFileName().toString().replace(".json", ".lock"));
            FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock l;
            try {
                l = ch.tryLock();
            } catch (OverlappingFileLockException e) {
                l = null; // held by this very process
            }
            if (l == null) {
                ch.close();
                return null;
            }
            return new Journal(run, file, lockFile, ch, l, null);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot use run directory " + file.getParent() + ": " + e.getMessage(), e);
        }
    }

    private static Entry read(Path f) {
        try {
            return Mappers.JSON.readValue(f.toFile(), Entry.class);
        } catch (IOException e) {
            return null;
        }
    }

    Entry entry() { return entry; }

    /** Replaces the journal atomically (write a temporary file, rename it over). */
    void write(Entry e) {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try {
            Files.write(tmp, Mappers.JSON.writeValueAsBytes(e));
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException ex) {
            throw new UncheckedIOException("cannot write journal " + file + ": " + ex.getMessage(), ex);
        }
        entry = e;
    }

    /**
     * The migration is over (done or undone): the journal goes, and with it every baseline file of this migration
     * still there: each step removes the file it replaced, but a crash between naming the next one in the journal
     * and that removal leaves the old one, which no journal names.
     */
    void finish() {
        if (entry != null) run.dropBaselines(entry.oldId(), entry.token());
        try {
            Files.deleteIfExists(file);
            Files.deleteIfExists(lockFile); // still locked by us: a waiting run locks a fresh file
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        close();
    }

    @Override
    public void close() {
        try {
            if (lock.isValid()) lock.release();
            lockChannel.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
