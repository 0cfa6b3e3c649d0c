package io.bpfcharge.migrate;

import io.bpfcharge.BpfchargeException;
import io.bpfcharge.BpfchargeException.Exit;
import io.bpfcharge.bpf.InventoryIterators;
import io.bpfcharge.bpf.MapFd;
import io.bpfcharge.bpf.MapInfo;
import io.bpfcharge.bpf.MergeSum;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * After the swap: settles what was written to the old map meanwhile into the replacement, or, when something
 * else keeps holding the old map, gives the map back (slots and pins to the old map, the replacement's writes
 * into it). Every step checks what is done, so a run resumed from the journal goes through the same code.
 */
final class Settlement {
    private final Journal j;
    private final InventoryIterators it;
    private final MapFd old, neu;
    private final MapInfo info;
    private final Consumer<String> phase;

    /** @param phase told when the rollback's phase ends (for the run's phase times) */
    Settlement(Journal j, InventoryIterators it, MapFd old, MapFd neu, MapInfo info, Consumer<String> phase) {
        this.j = j;
        this.it = it;
        this.old = old;
        this.neu = neu;
        this.info = info;
        this.phase = phase;
    }

    /** This process's user references to the old map while it settles: its fd and its keep pin. */
    private static final int OURS = 2;
    /** Settling passes before a map that keeps being opened is given back. */
    private static final int PASSES = 3;

    /**
     * The old map's writes after the baseline, into the replacement, in passes. A pass starts once nothing else
     * holds the old map and ends with a look at it; the last look is without the keep pin, so that only this
     * process's fd reaches it. Anything that opened it meanwhile (by id, or through the keep pin) may have
     * written after its key was read: once it is gone, another pass settles what it wrote against what the
     * last pass read (sum needs no baseline for that: each pass took its deltas off the old map). A holder
     * that stays makes the migration roll back.
     * @return keys carried over
     */
    long settle() {
        try (Quiescence oldMap = Quiescence.of(it, old, j.entry().oldId())) {
            return settle(oldMap);
        }
    }

    private long settle(Quiescence oldMap) {
        long merged = 0;
        for (int pass = 1; ; pass++) {
            Optional<String> held = oldMap.await(OURS, Quiescence.WAIT);
            if (held.isPresent() || pass > PASSES)
                throw undo(held.orElse("something that keeps opening it"));
            Journal.Entry e = j.entry();
            boolean overwrite = e.merge() == MigrationRequest.Merge.OVERWRITE;
            String read = overwrite ? passFile(e) : null;
            try (Baseline base = e.baseline() != null ? Baseline.open(Path.of(e.baseline()))
                    : Baseline.empty(info.keySize(), info.userValueSize());
                 Baseline.Writer tee = read == null ? null : new Baseline.Writer(Path.of(read), info.keySize(), info.userValueSize());
                 MergeSum sum = overwrite ? null : Reconciler.sum(old, neu, info)) {
                merged += Reconciler.reconcile(old, neu, info, base, e.merge(), tee, sum);
                if (tee != null) tee.finish();
            }
            if (read != null) {
                j.write(e.withBaseline(read));
                Journal.delete(e.baseline());
            }
            if (oldMap.await(OURS, Duration.ZERO).isPresent()) continue;
            Crash.point("reconciled");
            Journal.delete(e.keepPin());
            if (oldMap.await(OURS - 1, Duration.ZERO).isEmpty()) return merged;
            old.pin(Path.of(e.keepPin())); // opened at the last moment: keep it for the next pass (or the rollback)
        }
    }

    /**
     * The file a settling pass writes what it reads into: numbered one past the journal's baseline, so that a run
     * resumed after a crash at "reconciled" never truncates the very file it compares with (it did, and a
     * mapping of it happened to read back what the pass had just rewritten), while a pass a crash interrupted
     * before the journal named its file is written again under the same name, and nothing is left behind.
     */
    private String passFile(Journal.Entry e) {
        String prefix = "baseline-" + e.oldId() + "-" + e.token() + "-";
        String current = e.baseline() == null ? "" : Path.of(e.baseline()).getFileName().toString();
        int last = current.startsWith(prefix) && current.endsWith(".bin")
                ? Integer.parseInt(current.substring(prefix.length(), current.length() - ".bin".length())) : 0;
        return j.runDir().file(prefix + (last + 1) + ".bin").toString();
    }

    /**
     * Reverses a swap because something else holds the old map: every slot and pin goes back to the old map,
     * then what was written to the replacement through them meanwhile is settled into the old map (once
     * nothing else holds the replacement, or after the wait), and the replacement is freed. Nothing written to
     * either map is lost, and the application keeps the map it holds.
     * @return the error that reports it (exit 8)
     */
    BpfchargeException undo(String holder) {
        if (!j.entry().undo()) {
            Journal.Entry e = j.entry();
            // A backfill given back before any settling pass has no baseline: what the old map holds now tells
            // which of its keys are written after the swap back (by writers newer than the replacement's).
            String base = e.baseline() == null && e.merge() == MigrationRequest.Merge.OVERWRITE
                    ? j.runDir().file("undo-" + e.oldId() + "-" + e.token() + ".bin").toString() : null;
            j.write(e.undoing(base));
            if (base != null) snapshot(old, info, Path.of(base));
        }
        Journal.Entry e = j.entry();
        Swap.slots(e, e.newId(), old);
        Swap.pins(e, e.newId(), old);
        Crash.point("unswapped");
        Optional<String> stillNew;
        try (Quiescence newMap = Quiescence.of(it, neu, e.newId())) { // closed first: the replacement is freed next
            stillNew = newMap.await(OURS, Quiescence.WAIT);
        }
        settleBack(e);
        phase.accept("rollback");
        for (String p : new String[]{e.baseline(), e.undoBase(), e.keepPin(), e.tempPin()}) Journal.delete(p);
        j.finish();
        MigrationHistory.record(j.runDir(), Result.ROLLED_BACK, e);
        return new BpfchargeException(Exit.ROLLED_BACK, "map " + e.oldId() + " is held by " + holder
                + ", which could still write to it: rolled back, map " + e.oldId() + " is in place with every write made"
                + " to either map" + stillNew.map(h -> "; " + h + " still holds the replacement " + e.newId()
                        + ", whose later writes reach no pin: restart it").orElse("")
                + "; migrate again once it has closed the map (or start it after the migration)");
    }

    /**
     * The replacement's writes since the swap, into the old map. Overwrite compares with what both maps last
     * held alike (the copy's baseline, or what the last settling pass read), or, for a backfill given back before
     * any pass, with what the old map held at the swap back; sum with what each settling pass left in the old
     * map (the copy's baseline, or nothing after a backfill).
     */
    private void settleBack(Journal.Entry e) {
        if (e.undoBase() != null) {
            try (Baseline atSwapBack = Baseline.openOrEmpty(Path.of(e.undoBase()), info.keySize(), info.userValueSize())) {
                Reconciler.giveBack(neu, old, info, atSwapBack);
            }
            return;
        }
        try (Baseline base = e.baseline() == null ? Baseline.empty(info.keySize(), info.userValueSize())
                : Baseline.open(Path.of(e.baseline()));
             MergeSum sum = e.merge() == MigrationRequest.Merge.SUM ? Reconciler.sum(neu, old, info) : null) {
            Reconciler.reconcile(neu, old, info, base, e.merge(), null, sum);
        }
    }

    /** What {@code map} holds now, into {@code file} (a {@link Baseline}). */
    private static void snapshot(MapFd map, MapInfo info, Path file) {
        try (Baseline.Writer w = new Baseline.Writer(file, info.keySize(), info.userValueSize())) {
            Copier.read(map, info, w);
            w.finish();
        }
    }
}
