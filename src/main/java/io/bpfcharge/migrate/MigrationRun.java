package io.bpfcharge.migrate;

import io.bpfcharge.BpfchargeException;
import io.bpfcharge.BpfchargeException.Exit;
import io.bpfcharge.bpf.BpfException;
import io.bpfcharge.bpf.BpfFd;
import io.bpfcharge.bpf.Cpus;
import io.bpfcharge.bpf.Errno;
import io.bpfcharge.bpf.InventoryIterators;
import io.bpfcharge.bpf.MapCharge;
import io.bpfcharge.bpf.MapFd;
import io.bpfcharge.bpf.MapInfo;
import io.bpfcharge.bpf.MergeSum;
import io.bpfcharge.bpffs.Pins;
import io.bpfcharge.cgroup.MemoryHierarchy;
import io.bpfcharge.inventory.MapRecord;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.concurrent.ThreadLocalRandom;

/**
 * One migration run, new ({@link #execute}) or resumed from its journal ({@link #resume}): creates the
 * replacement inside the target (helper process), verifies its charge, copies, swaps it into every slot and pin,
 * settles writes made to the old map meanwhile (or gives the map back when something else holds it), releases
 * the old map. Its phase times and counts are its own, so a migration that first resumes another reports only
 * itself.
 */
final class MigrationRun {
    static final String TEMP_PREFIX = "bpfcharge_tmp_", KEEP_PREFIX = "bpfcharge_old_";
    private static final Duration RELEASE_WAIT = Duration.ofSeconds(10);

    private final MemoryHierarchy h;
    private final InventoryIterators it;
    private final Migrator.Progress progress;
    private final Map<String, Duration> phases = new LinkedHashMap<>();
    private long mark = System.nanoTime();

    MigrationRun(MemoryHierarchy h, InventoryIterators it, Migrator.Progress progress) {
        this.h = h;
        this.it = it;
        this.progress = progress;
    }

    Map<String, Duration> phases() { return phases; }

    /** Runs a planned migration to its end: migrated, or rolled back (thrown, exit 8). */
    MigrationResult execute(Plan.Move mv, List<String> recovered) {
        int oldId = mv.map().id();
        String token = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
        Path dir = mv.pins().isEmpty() ? Pins.mounts().getFirst() : Path.of(mv.pins().getFirst()).getParent();
        Journal.Entry entry = Journal.Entry.prepared(mv, token, dir);
        OptionalLong sourceBefore = h.usage(mv.source()), targetBefore = h.usage(mv.target());
        long entries = 0;
        int newId;
        MigrationResult.Settled settled;
        try (MapFd old = MapFd.byId(oldId); Journal j = Journal.begin(entry)) {
            if (j == null) throw Migrator.migratingElsewhere(oldId);
            Crash.point("journal");
            MapFd neu = null;
            try {
                newId = CreateHelper.create(mv.target(), oldId, mv.templateId(), Path.of(entry.tempPin()));
                j.write(entry.with(Journal.Phase.CREATED, newId));
                phase("create");
                Crash.point("created");
                neu = (MapFd) BpfFd.openPin(Path.of(entry.tempPin()));
                verifyCharge(it, newId, mv);
                phase("verify");
                if (mv.strategy() == MigrationRequest.Strategy.COPY_SWAP) {
                    entries = copy(old, neu, mv.info(), entry.baseline());
                    phase("copy");
                }
                old.pin(Path.of(entry.keepPin()));
                j.write(j.entry().with(Journal.Phase.READY, newId));
            } catch (RuntimeException e) {
                if (neu != null) neu.close();
                rollback(j.entry());
                j.finish();
                log(History.ROLLED_BACK, oldId, 0, mv.bytes(), mv.source(), mv.target());
                throw rolledBack(e, mv);
            }
            Crash.point("copied");
            try (MapFd n = neu) {
                settled = finish(j, it, old, n, mv.info(), entries);
            }
        }
        // The old map's last reference (our fd) is gone: wait until the kernel frees it and uncharges its memcg by
        // about what its twin added to the target. Memlock overstates the charge (a 14 MB percpu_array charged
        // 1.6 MB, a 23 MB percpu_hash 17 MB), and the target's growth overstates it when something else grows there
        // meanwhile (a hook run from inside the container's memcg: its own JVM), so the smaller of the two.
        OptionalLong targetNow = h.usage(mv.target());
        long charge = targetNow.isPresent() && targetBefore.isPresent()
                ? Math.min(targetNow.getAsLong() - targetBefore.getAsLong(), mv.bytes()) : 0;
        boolean freed = awaitReleased(h, oldId, mv.source(), sourceBefore, charge);
        phase("release");
        MigrationResult.Usage usage = new MigrationResult.Usage(sourceBefore, h.usage(mv.source()), targetBefore,
                h.usage(mv.target()));
        log(History.OK, oldId, newId, mv.bytes(), mv.source(), mv.target());
        return new MigrationResult(MigrationResult.Result.OK, mv, newId, settled, phases, usage, freed, recovered);
    }

    /**
     * Finishes (or, when its swap was being reversed, undoes) a migration that reached READY before its process
     * died. The same steps as a new run: each checks what is already done.
     * @return the replacement's id when it finished; empty when it was dropped or rolled back (a line in {@code lines})
     */
    Optional<Integer> resume(Journal j, List<String> lines) {
        Journal.Entry e = j.entry();
        MapFd neu = openNew(e);
        if (neu == null) {
            // The replacement is gone (its owner unpinned and emptied every slot, or its temporary pin
            // was removed by hand before the swap): nothing can be finished. Its original references
            // still hold the old map if it was never swapped out; drop only our temporary names.
            rollback(e);
            j.finish();
            log(History.FAILED, e.oldId(), e.newId(), e.bytes(), e.source(), e.target());
            lines.add("dropped the interrupted migration of map " + e.oldId() + ": its replacement "
                    + e.newId() + " no longer exists");
            return Optional.empty();
        }
        MapFd old = e.keepPin() != null && Files.exists(Path.of(e.keepPin()))
                ? (MapFd) BpfFd.openPin(Path.of(e.keepPin())) : null;
        try (neu; old) {
            if (e.undo() && old != null) throw undo(j, it, old, neu, neu.info(), "a process (before a crash)");
            finish(j, it, old, neu, neu.info(), 0);
        } catch (BpfchargeException ex) {
            if (ex.exit() != Exit.ROLLED_BACK) throw ex;
            lines.add("rolled back the interrupted migration of map " + e.oldId() + ": " + ex.getMessage());
            return Optional.empty();
        }
        awaitFreed(e.oldId());
        log(History.OK, e.oldId(), e.newId(), e.bytes(), e.source(), e.target());
        lines.add("finished the interrupted migration of map " + e.oldId() + " to map " + e.newId());
        return Optional.of(e.newId());
    }

    private long copy(MapFd old, MapFd neu, MapInfo info, String baselinePath) {
        long expected = info.type().isArray() ? info.maxEntries() : 0;
        long n;
        if (baselinePath == null) {
            n = Copier.copy(old, neu, info, null, c -> progress.copied(c, expected));
        } else {
            try (Baseline.Writer w = new Baseline.Writer(Path.of(baselinePath), info.keySize(), info.userValueSize())) {
                n = Copier.copy(old, neu, info, w, c -> progress.copied(c, expected));
                w.finish();
            }
        }
        if (info.type().isLru()) requireAllKept(neu, info, n);
        return n;
    }

    /**
     * An LRU map evicts instead of refusing an insert, so a copy into it can lose entries without an error
     * (its free lists are per CPU, or split among CPUs). Nothing else writes the replacement before the
     * swap: if it holds fewer entries than were written, some were evicted, and the migration rolls back.
     */
    private static void requireAllKept(MapFd neu, MapInfo info, long written) {
        long kept = Copier.read(neu, info, batch -> {});
        if (kept >= written) return;
        String fix = info.type().lruListPerCpu(info.flags())
                ? "its lists are per CPU (BPF_F_NO_COMMON_LRU) and this process may run on " + Cpus.allowed().size()
                  + " of " + Cpus.possible() + " CPUs: run the migration without a narrower CPU affinity (taskset, cpuset)"
                : "the map is too full to copy from user space without eviction: run again when it holds fewer entries";
        throw new BpfchargeException(Exit.FAILED, "the replacement LRU map kept " + kept + " of the " + written
                + " entries copied (the kernel evicted the rest); " + fix);
    }

    private static void verifyCharge(InventoryIterators it, int newId, Plan.Move mv) {
        MapCharge c = it.maps().get(newId);
        if (c == null || !c.charged() || c.cgroupId() != mv.targetId())
            throw new BpfchargeException(Exit.FAILED, "the replacement map " + newId + " is charged to cgroup id "
                    + (c == null ? "?" : c.cgroupId()) + ", not to " + mv.target() + " (id " + mv.targetId() + ")");
    }

    private static BpfchargeException rolledBack(RuntimeException e, Plan.Move mv) {
        String why = e instanceof BpfException b && b.errno() == Errno.ENOMEM
                ? "the kernel ran out of memory for the copy in " + mv.target() + " (ENOMEM): raise its limit"
                : e instanceof BpfchargeException b ? b.getMessage() : e.getMessage();
        Exit exit = e instanceof BpfchargeException b && b.exit() == Exit.NO_ROOM ? Exit.NO_ROOM : Exit.ROLLED_BACK;
        return new BpfchargeException(exit, why + "; the replacement was freed and map " + mv.map().id()
                + " is untouched", e);
    }

    /**
     * From READY on: swap the replacement into every slot, re-pin it over every pin, wait until nothing else
     * holds the old map, settle it into the replacement, check again, clean up. Every step can run again (it
     * checks what is already done), so a resumed run uses this same code. When something else still holds
     * the old map (it could write there after the settling), the swap is reversed instead: see {@link #undo}.
     */
    private MigrationResult.Settled finish(Journal j, InventoryIterators it, MapFd old, MapFd neu, MapInfo info, long entries) {
        Journal.Entry e = j.entry();
        swapSlots(e, e.oldId(), neu);
        repin(e, e.oldId(), neu);
        if (e.phase() == Journal.Phase.READY) j.write(e.with(Journal.Phase.SWAPPED, e.newId()));
        phase("swap");
        Crash.point("swapped");
        long merged = 0;
        // Programs that reached the old map through a slot are done with it (a map-of-maps update returns
        // after an RCU grace period); processes that opened its pin before the rename may still write it.
        if (old != null) {
            merged = settle(j, it, old, neu, info);
            if (j.entry().strategy() == MigrationRequest.Strategy.SWAP_BACKFILL) entries = merged;
            phase("reconcile");
        }
        e = j.entry();
        for (String p : new String[]{e.baseline(), e.keepPin(), e.tempPin()}) delete(p);
        j.finish();
        return new MigrationResult.Settled(entries, merged);
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
    private long settle(Journal j, InventoryIterators it, MapFd old, MapFd neu, MapInfo info) {
        long merged = 0;
        for (int pass = 1; ; pass++) {
            Optional<String> held = Quiescence.await(it, j.entry().oldId(), OURS, Quiescence.WAIT);
            if (held.isPresent() || pass > PASSES)
                throw undo(j, it, old, neu, info, held.orElse("something that keeps opening it"));
            Journal.Entry e = j.entry();
            boolean overwrite = e.merge() == MigrationRequest.Merge.OVERWRITE;
            String read = overwrite ? Journal.runDir().resolve("baseline-" + e.oldId() + "-" + e.token() + "-" + pass
                    + ".bin").toString() : null;
            try (Baseline base = e.baseline() != null ? Baseline.open(Path.of(e.baseline()))
                    : Baseline.empty(info.keySize(), info.userValueSize());
                 Baseline.Writer tee = read == null ? null : new Baseline.Writer(Path.of(read), info.keySize(), info.userValueSize());
                 MergeSum sum = overwrite ? null : Reconciler.sum(old, neu, info)) {
                merged += Reconciler.reconcile(old, neu, info, base, e.merge(), tee, sum);
                if (tee != null) tee.finish();
            }
            if (read != null) {
                j.write(e.withBaseline(read));
                delete(e.baseline());
            }
            if (Quiescence.await(it, e.oldId(), OURS, Duration.ZERO).isPresent()) continue;
            Crash.point("reconciled");
            delete(e.keepPin());
            if (Quiescence.await(it, e.oldId(), OURS - 1, Duration.ZERO).isEmpty()) return merged;
            old.pin(Path.of(e.keepPin())); // opened at the last moment: keep it for the next pass (or the rollback)
        }
    }

    /**
     * Reverses a swap because something else holds the old map: every slot and pin goes back to the old map,
     * then what was written to the replacement through them meanwhile is settled into the old map (once
     * nothing else holds the replacement, or after the wait), and the replacement is freed. Nothing written to
     * either map is lost, and the application keeps the map it holds.
     * @return the error that reports it (exit 8)
     */
    private BpfchargeException undo(Journal j, InventoryIterators it, MapFd old, MapFd neu, MapInfo info, String holder) {
        if (!j.entry().undo()) {
            Journal.Entry e = j.entry();
            // A backfill given back before any settling pass has no baseline: what the old map holds now tells
            // which of its keys are written after the swap back (by writers newer than the replacement's).
            String base = e.baseline() == null && e.merge() == MigrationRequest.Merge.OVERWRITE
                    ? Journal.runDir().resolve("undo-" + e.oldId() + "-" + e.token() + ".bin").toString() : null;
            j.write(e.undoing(base));
            if (base != null) snapshot(old, info, Path.of(base));
        }
        Journal.Entry e = j.entry();
        swapSlots(e, e.newId(), old);
        repin(e, e.newId(), old);
        Crash.point("unswapped");
        Optional<String> stillNew = Quiescence.await(it, e.newId(), OURS, Quiescence.WAIT);
        settleBack(e, old, neu, info);
        phase("rollback");
        for (String p : new String[]{e.baseline(), e.undoBase(), e.keepPin(), e.tempPin()}) delete(p);
        j.finish();
        log(History.ROLLED_BACK, e.oldId(), e.newId(), e.bytes(), e.source(), e.target());
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
    private static void settleBack(Journal.Entry e, MapFd old, MapFd neu, MapInfo info) {
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

    /** Puts {@code to} into every journaled slot that still holds map {@code fromId}. */
    private static void swapSlots(Journal.Entry e, int fromId, MapFd to) {
        boolean first = true;
        for (MapRecord.Slot s : e.slots()) {
            ByteBuffer key = ByteBuffer.wrap(HexFormat.of().parseHex(s.key()));
            Optional<MapFd> found = MapFd.find(s.outerId());
            if (found.isEmpty()) continue; // the outer map is gone
            try (MapFd outer = found.get()) {
                // Only a slot still holding that map: one the owner changed meanwhile is theirs.
                OptionalInt held = outer.innerMapId(key);
                if (held.isEmpty() || held.getAsInt() != fromId) continue;
                outer.setInnerMap(key, to);
            }
            if (first) Crash.point("swap");
            first = false;
        }
    }

    /** Pins {@code to} over every journaled pin that still holds map {@code fromId}. */
    private static void repin(Journal.Entry e, int fromId, MapFd to) {
        for (int i = 0; i < e.pins().size(); i++) {
            Path pin = Path.of(e.pins().get(i));
            Optional<BpfFd> found = BpfFd.findPin(pin);
            if (found.isEmpty()) continue; // unpinned by its owner meanwhile
            try (BpfFd cur = found.get()) {
                if (!(cur instanceof MapFd m) || m.info().id() != fromId) continue; // done, or replaced by its owner
            }
            Path tmp = e.repinTemp(i);
            delete(tmp.toString());
            to.pin(tmp);
            try {
                Files.move(tmp, pin, StandardCopyOption.ATOMIC_MOVE); // rename(2): replaces the old pin atomically
            } catch (IOException ex) {
                throw new UncheckedIOException("cannot rename " + tmp + " over " + pin + ": " + ex.getMessage(), ex);
            }
            Crash.point("swap");
        }
    }

    /** Undoes a migration that did not reach READY: nothing but temporary names was created. */
    static void rollback(Journal.Entry e) {
        for (int i = 0; i < e.pins().size(); i++) delete(e.repinTemp(i).toString());
        for (String p : new String[]{e.tempPin(), e.keepPin(), e.baseline(), e.undoBase()}) delete(p);
    }

    private static void delete(String path) {
        if (path == null) return;
        try {
            Files.deleteIfExists(Path.of(path));
        } catch (IOException ex) {
            throw new UncheckedIOException("cannot remove " + path + ": " + ex.getMessage(), ex);
        }
    }

    /**
     * Waits until the old map is freed and its source memcg uncharged, within {@link #RELEASE_WAIT}. The map's id
     * goes away first; the kernel frees its memory afterwards in a work item (per-CPU memory and elements after RCU
     * grace periods), and only then does the memcg's usage fall: a 17 MB percpu_hash's source still showed its full
     * usage when the id was gone. So when the map's charge is big enough to see (memcg usage is cached per CPU, up
     * to 64 pages each), it also waits until the source's usage has fallen by half of it. False when either did not
     * happen in time.
     */
    private static boolean awaitReleased(MemoryHierarchy h, int id, String source, OptionalLong before, long charge) {
        long deadline = System.nanoTime() + RELEASE_WAIT.toNanos();
        if (!Poll.until(deadline, 5, () -> gone(id))) return false;
        if (charge < MigrationResult.UNCHARGE_VISIBLE || source.equals(Plan.ROOT) || before == null || before.isEmpty()) return true;
        return Poll.until(deadline, 5, () -> {
            OptionalLong now = h.usage(source);
            return now.isEmpty() || now.getAsLong() <= before.getAsLong() - charge / 2;
        });
    }

    private static boolean awaitFreed(int id) {
        return Poll.until(System.nanoTime() + RELEASE_WAIT.toNanos(), 5, () -> gone(id));
    }

    private static boolean gone(int id) {
        Optional<MapFd> still = MapFd.find(id);
        still.ifPresent(MapFd::close);
        return still.isEmpty();
    }

    /** The replacement of an interrupted migration, or null when it no longer exists. */
    private static MapFd openNew(Journal.Entry e) {
        Path temp = Path.of(e.tempPin());
        if (Files.exists(temp)) return (MapFd) BpfFd.openPin(temp);
        return MapFd.find(e.newId()).orElse(null); // only the temporary pin was removed: slots and pins hold it
    }

    private void phase(String name) {
        long now = System.nanoTime();
        phases.merge(name, Duration.ofNanos(now - mark), Duration::plus);
        mark = now;
    }

    /** migrations.jsonl's result field. */
    enum History {
        OK, NOOP, REFUSED, FAILED, ROLLED_BACK;

        String jsonName() { return name().toLowerCase(); }
    }

    static void log(History result, int oldId, int newId, long bytes, String from, String to) {
        MigrationHistory.append(new MigrationEvent(Instant.now(), result.jsonName(), oldId, newId, bytes, from, to));
    }
}
