package io.bpfcharge.migrate;

import io.bpfcharge.host.KernelRelease;
import io.bpfcharge.BpfchargeException;
import io.bpfcharge.BpfchargeException.Exit;
import io.bpfcharge.bpf.BpfException;
import io.bpfcharge.bpf.BpfFd;
import io.bpfcharge.bpf.Cpus;
import io.bpfcharge.bpf.InventoryIterators;
import io.bpfcharge.bpf.MapCharge;
import io.bpfcharge.bpf.MapFd;
import io.bpfcharge.bpf.MapInfo;
import io.bpfcharge.bpffs.Pins;
import io.bpfcharge.cgroup.MemoryHierarchy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
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
    private final MemoryHierarchy h;
    private final InventoryIterators it;
    private final Migrator.Progress progress;
    private final RunDir run;
    private final Map<String, Duration> phases = new LinkedHashMap<>();
    private long mark = System.nanoTime();

    MigrationRun(MemoryHierarchy h, InventoryIterators it, Migrator.Progress progress, RunDir run) {
        this.h = h;
        this.it = it;
        this.progress = progress;
        this.run = run;
    }

    Map<String, Duration> phases() { return phases; }

    /** Runs a planned migration to its end: migrated, or rolled back (thrown, exit 8). */
    MigrationResult execute(Plan.Move mv, List<String> recovered) {
        int oldId = mv.map().id();
        String token = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
        Path dir = mv.pins().isEmpty() ? Pins.mounts().getFirst() : Path.of(mv.pins().getFirst()).getParent();
        Journal.Entry entry = Journal.Entry.prepared(mv, token, dir, run);
        OptionalLong sourceBefore = h.usage(mv.source()), targetBefore = h.usage(mv.target());
        long entries = 0;
        int newId;
        MigrationResult.Settled settled;
        try (MapFd old = MapFd.byId(oldId); Journal j = Journal.begin(run, entry)) {
            if (j == null) throw Journal.busy(oldId);
            Crash.point("journal");
            MapFd neu = null;
            try {
                newId = CreateHelper.create(h, mv.target(), oldId, mv.templateId(), Path.of(entry.tempPin()));
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
                Journal.removeNames(j.entry());
                j.finish();
                MigrationHistory.record(run, Result.ROLLED_BACK, oldId, 0, mv.bytes(), mv.source(), mv.target());
                throw rolledBack(e, mv);
            }
            Crash.point("copied");
            try (MapFd n = neu) {
                settled = finish(j, it, old, n, mv.info(), entries);
            }
        }
        // The old map's last reference (our fd) is gone: wait until the kernel frees it and uncharges its memcg by
        // about what its twin added to the target. Memlock overstates the charge since 6.4 (a 14 MB percpu_array
        // charged 1.6 MB, a 23 MB percpu_hash 17 MB), and the target's growth overstates it when something else
        // grows there meanwhile (a hook run from inside the container's memcg: its own JVM), so the smaller of the
        // two. Before 6.4 memlock is an estimate from the attributes that leaves out per-CPU memory (4.8 MB for a
        // percpu_hash charged 17 MB on 6.1): the per-CPU values are added to it there.
        OptionalLong targetNow = h.usage(mv.target());
        long grown = targetNow.isPresent() && targetBefore.isPresent() ? targetNow.getAsLong() - targetBefore.getAsLong() : 0;
        long charge = Math.min(grown, KernelRelease.atLeast(6, 4) ? mv.bytes() : mv.bytes() + perCpuValues(mv.info()));
        boolean freed = Release.awaitReleased(h, oldId, mv.source(), sourceBefore, charge);
        phase("release");
        MigrationResult.Usage usage = new MigrationResult.Usage(sourceBefore, h.usage(mv.source()), targetBefore,
                h.usage(mv.target()));
        MigrationHistory.record(run, Result.MIGRATED, oldId, newId, mv.bytes(), mv.source(), mv.target());
        return new MigrationResult(Result.MIGRATED, mv, newId, settled, phases, usage, freed, recovered);
    }

    /**
     * Finishes (or, when its swap was being reversed, undoes) a migration that reached READY before its process
     * died. The same steps as a new run: each checks what is already done.
     * @return the map now at its pins and slots: the replacement when it finished, the old map when it was rolled
     *         back; empty when it was dropped (a line in {@code lines} each time)
     */
    Optional<Integer> resume(Journal j, List<String> lines) {
        Journal.Entry e = j.entry();
        MapFd neu = openNew(e);
        if (neu == null) {
            // The replacement is gone (its owner unpinned and emptied every slot, or its temporary pin
            // was removed by hand before the swap): nothing can be finished. Its original references
            // still hold the old map if it was never swapped out; drop only our temporary names.
            Journal.removeNames(e);
            j.finish();
            MigrationHistory.record(run, Result.FAILED, e);
            lines.add("dropped the interrupted migration of map " + e.oldId() + ": its replacement "
                    + e.newId() + " no longer exists");
            return Optional.empty();
        }
        MapFd old = e.keepPin() != null && Files.exists(Path.of(e.keepPin()))
                ? (MapFd) BpfFd.openPin(Path.of(e.keepPin())) : null;
        try (neu; old) {
            if (e.undo() && old != null)
                throw new Settlement(j, it, old, neu, neu.info(), this::phase).undo("a process (before a crash)");
            finish(j, it, old, neu, neu.info(), 0);
        } catch (BpfchargeException ex) {
            if (ex.exit() != Exit.ROLLED_BACK) throw ex;
            lines.add("rolled back the interrupted migration of map " + e.oldId() + ": " + ex.getMessage());
            return Optional.of(e.oldId());
        }
        Release.awaitFreed(e.oldId());
        MigrationHistory.record(run, Result.MIGRATED, e);
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

    /** A per-CPU map's values on every possible CPU (8-byte aligned each), which memlock leaves out before 6.4. */
    private static long perCpuValues(MapInfo info) {
        if (!info.type().isPerCpu()) return 0;
        return ((info.valueSize() + 7L) & ~7L) * info.maxEntries() * Cpus.possible();
    }

    private static BpfchargeException rolledBack(RuntimeException e, Plan.Move mv) {
        String why = e instanceof BpfException b && b.outOfMemory()
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
     * the old map (it could write there after the settling), the swap is reversed instead: see {@link Settlement#undo}.
     */
    private MigrationResult.Settled finish(Journal j, InventoryIterators it, MapFd old, MapFd neu, MapInfo info, long entries) {
        Journal.Entry e = j.entry();
        Swap.slots(e, e.oldId(), neu);
        Swap.pins(e, e.oldId(), neu);
        if (e.phase() == Journal.Phase.READY) j.write(e.with(Journal.Phase.SWAPPED, e.newId()));
        phase("swap");
        Crash.point("swapped");
        long merged = 0;
        // Programs that reached the old map through a slot are done with it (a map-of-maps update returns
        // after an RCU grace period); processes that opened its pin before the rename may still write it.
        if (old != null) {
            merged = new Settlement(j, it, old, neu, info, this::phase).settle();
            if (j.entry().strategy() == MigrationRequest.Strategy.SWAP_BACKFILL) entries = merged;
            phase("reconcile");
        }
        e = j.entry();
        for (String p : new String[]{e.baseline(), e.keepPin(), e.tempPin()}) Journal.delete(p);
        j.finish();
        return new MigrationResult.Settled(entries, merged);
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
}
