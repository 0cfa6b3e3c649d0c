package io.bpfcharge.migrate;

import io.bpfcharge.bpffs.PinPaths;
import io.bpfcharge.bpffs.Pins;
import io.bpfcharge.BpfchargeException;
import io.bpfcharge.BpfchargeException.Exit;
import io.bpfcharge.bpf.BpfException;
import io.bpfcharge.bpf.BpfFd;
import io.bpfcharge.bpf.Cpus;
import io.bpfcharge.bpf.Errno;
import io.bpfcharge.bpf.MapCharge;
import io.bpfcharge.bpf.MapFd;
import io.bpfcharge.bpf.MapInfo;
import io.bpfcharge.bpf.InventoryIterators;
import io.bpfcharge.cgroup.CgroupException;
import io.bpfcharge.cgroup.MemoryHierarchy;
import io.bpfcharge.doctor.Checks;
import io.bpfcharge.inventory.Inventory;
import io.bpfcharge.inventory.MapRecord;
import io.bpfcharge.inventory.Snapshot;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Moves a map's memory charge to another memory cgroup: the one code path behind the CLI, the hook and the
 * daemon. Steps: finish or undo interrupted migrations (journals), scan, plan, create the replacement inside
 * the target (helper process), verify its charge, copy, swap it into every slot and pin, reconcile writes
 * made to the old map meanwhile, release the old map and wait until its memcg is uncharged.
 */
public final class Migrator {
    static final String TEMP_PREFIX = "bpfcharge_tmp_", KEEP_PREFIX = "bpfcharge_old_";
    private static final Duration RELEASE_WAIT = Duration.ofSeconds(10);

    /** Copy progress, for a terminal. */
    @FunctionalInterface
    public interface Progress {
        Progress NONE = (done, total) -> {};

        void copied(long entries, long expected);
    }

    private final Progress progress;
    private final Map<String, Duration> phases = new LinkedHashMap<>();
    private long mark = System.nanoTime();

    public Migrator(Progress progress) { this.progress = progress; }

    public Migrator() { this(Progress.NONE); }

    public MigrationResult migrate(MigrationRequest req) {
        Checks.requireAll();
        MemoryHierarchy h = MemoryHierarchy.detect();
        String target = target(h, req);
        List<String> recovered = new ArrayList<>();
        Map<Integer, Integer> renamed = recoverAll(h, recovered);
        phase("recover");
        int id = mapId(req.map(), renamed);
        try (Inventory inv = new Inventory(h)) {
            Snapshot snap = inv.scan();
            MapRecord m = snap.map(id).orElseThrow(() -> new BpfchargeException(Exit.NOT_FOUND, "map " + id
                    + " (" + req.map() + ") was freed meanwhile: list maps with `bpfcharge maps`"));
            Plan plan = Plan.of(snap, m, target, h.id(target), h.headroom(target), req);
            phase("plan");
            String source = m.memcg() == null ? "/" : m.memcg().path();
            // A dry run changes nothing and records nothing: it is no attempt, and must not count as one.
            switch (plan) {
                case Plan.Noop n -> {
                    if (!req.dryRun()) log("noop", m.id(), 0, 0, source, target);
                    return new MigrationResult("noop", n, m.id(), 0, source, target, 0, m.bytes(), 0, phases,
                            Map.of(), false, recovered);
                }
                case Plan.Refused r -> {
                    if (!req.dryRun()) log("refused", m.id(), 0, 0, source, target);
                    throw new BpfchargeException(r.exit(), r.message());
                }
                case Plan.Move mv -> {
                    if (req.dryRun())
                        return new MigrationResult("dry_run", mv, m.id(), 0, source, target, 0, m.bytes(), 0, phases,
                                Map.of(), false, recovered);
                    return execute(h, mv, recovered);
                }
            }
        }
    }

    private static String target(MemoryHierarchy h, MigrationRequest req) {
        if (req.toPid() != null) {
            if (ProcessHandle.of(req.toPid()).map(p -> !p.isAlive()).orElse(true))
                throw new BpfchargeException(Exit.NOT_FOUND, "process " + req.toPid() + " does not exist: give the pid "
                        + "of a live process in the target container, or --to-cgroup");
            try {
                return h.cgroupOf(req.toPid());
            } catch (CgroupException e) {
                throw new BpfchargeException(Exit.NOT_FOUND, e.getMessage() + ": give a live process, or --to-cgroup");
            }
        }
        String path;
        try {
            path = h.pathOf(h.dir(req.toCgroup()));
        } catch (CgroupException e) {
            throw new BpfchargeException(Exit.USAGE, e.getMessage());
        }
        if (!h.exists(path))
            throw new BpfchargeException(Exit.NOT_FOUND, "memory cgroup " + req.toCgroup() + " does not exist under "
                    + h.root() + ": give a path as /proc/PID/cgroup shows it, or --to-pid");
        return path;
    }

    /** The id of the map a --map names; a map a resumed migration replaced is named by its new id. */
    private static int mapId(String spec, Map<Integer, Integer> renamed) {
        if (spec.startsWith("id:")) {
            int id;
            try {
                id = Integer.parseInt(spec.substring(3));
            } catch (NumberFormatException e) {
                id = 0;
            }
            if (id <= 0)
                throw new BpfchargeException(Exit.USAGE, "--map " + BpfchargeException.clip(spec)
                        + ": expected id:N with N a map id (a positive number, as bpfcharge maps lists it) or a pin path");
            int now = renamed.getOrDefault(id, id);
            try (MapFd ignored = MapFd.byId(now)) {
                return now;
            } catch (BpfException e) {
                if (e.errno() != Errno.ENOENT) throw e;
                throw new BpfchargeException(Exit.NOT_FOUND, "no map with id " + id + ": list them with `bpfcharge maps`");
            }
        }
        Path p = PinPaths.current().pin(Path.of(spec).toAbsolutePath().normalize());
        try (BpfFd fd = BpfFd.openPin(p)) {
            if (!(fd instanceof MapFd map))
                throw new BpfchargeException(Exit.NOT_FOUND, p + " is a pinned " + (fd instanceof io.bpfcharge.bpf.ProgFd
                        ? "program" : "BPF object") + ", not a map: give a map's pin path or id:N");
            return map.info().id();
        } catch (BpfException e) {
            throw new BpfchargeException(Exit.NOT_FOUND, "cannot open pin " + p + " (" + e.errnoName() + "): give a map's pin path or id:N");
        }
    }

    // ---- a new migration ----

    private MigrationResult execute(MemoryHierarchy h, Plan.Move mv, List<String> recovered) {
        int oldId = mv.map().id();
        String token = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
        Path dir = mv.pins().isEmpty() ? Pins.mounts().getFirst() : Path.of(mv.pins().getFirst()).getParent();
        boolean keep = mv.writable() || mv.strategy() == MigrationRequest.Strategy.SWAP_BACKFILL;
        boolean baseline = mv.writable() && mv.strategy() == MigrationRequest.Strategy.COPY_SWAP;
        Journal.Entry entry = new Journal.Entry(Journal.Phase.PREPARED, oldId, 0, token, mv.kind(), mv.source(),
                mv.target(), mv.strategy(), mv.merge(), mv.slots(), mv.pins(),
                dir.resolve(TEMP_PREFIX + oldId + "_" + token).toString(),
                keep ? dir.resolve(KEEP_PREFIX + oldId + "_" + token).toString() : null,
                baseline ? Journal.runDir().resolve("baseline-" + oldId + "-" + token + ".bin").toString() : null,
                mv.bytes());
        Map<String, OptionalLong> usage = new LinkedHashMap<>();
        usage.put("source_before", h.usage(mv.source()));
        usage.put("target_before", h.usage(mv.target()));
        long entries = 0;
        int newId;
        try (MapFd old = MapFd.byId(oldId); Journal j = Journal.begin(entry)) {
            if (j == null)
                throw new BpfchargeException(Exit.REFUSED, "map " + oldId + " is being migrated by another bpfcharge process: wait for it");
            Crash.point("journal");
            MapFd neu = null;
            try {
                newId = CreateHelper.create(mv.target(), oldId, mv.templateId(), Path.of(entry.tempPin()));
                j.write(entry.with(Journal.Phase.CREATED, newId));
                phase("create");
                Crash.point("created");
                neu = (MapFd) BpfFd.openPin(Path.of(entry.tempPin()));
                verifyCharge(newId, mv);
                phase("verify");
                if (mv.strategy() == MigrationRequest.Strategy.COPY_SWAP) {
                    entries = copy(old, neu, mv.info(), entry.baseline());
                    phase("copy");
                }
                if (keep) old.pin(Path.of(entry.keepPin()));
                j.write(j.entry().with(Journal.Phase.READY, newId));
            } catch (RuntimeException e) {
                if (neu != null) neu.close();
                rollback(j.entry());
                j.finish();
                log("rolled_back", oldId, 0, mv.bytes(), mv.source(), mv.target());
                throw rolledBack(e, mv);
            }
            Crash.point("copied");
            try (MapFd n = neu) {
                entries = finish(j, old, n, mv.info(), entries);
            }
        }
        // The old map's last reference (our fd) is gone: wait until the kernel frees it and uncharges its memcg by
        // about what its twin added to the target (memlock is no measure of the charge: a 14 MB percpu_array
        // charged 1.6 MB, a 23 MB percpu_hash 17 MB).
        OptionalLong targetNow = h.usage(mv.target()), targetBefore = usage.get("target_before");
        long charge = targetNow.isPresent() && targetBefore.isPresent() ? targetNow.getAsLong() - targetBefore.getAsLong() : 0;
        boolean freed = awaitReleased(h, oldId, mv.source(), usage.get("source_before"), charge);
        phase("release");
        usage.put("source_after", h.usage(mv.source()));
        usage.put("target_after", h.usage(mv.target()));
        log("ok", oldId, newId, mv.bytes(), mv.source(), mv.target());
        return new MigrationResult("ok", mv, oldId, newId, mv.source(), mv.target(), entries, mv.bytes(),
                lastMerged, phases, usage, freed, recovered);
    }

    private long lastMerged;

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
        long kept = Copier.read(neu, info, (k, v, m) -> {});
        if (kept >= written) return;
        String fix = info.type().lruListPerCpu(info.flags())
                ? "its lists are per CPU (BPF_F_NO_COMMON_LRU) and this process may run on " + Cpus.allowed().size()
                  + " of " + Cpus.possible() + " CPUs: run the migration without a narrower CPU affinity (taskset, cpuset)"
                : "the map is too full to copy from user space without eviction: run again when it holds fewer entries";
        throw new BpfchargeException(Exit.FAILED, "the replacement LRU map kept " + kept + " of the " + written
                + " entries copied (the kernel evicted the rest); " + fix);
    }

    private static void verifyCharge(int newId, Plan.Move mv) {
        try (InventoryIterators it = InventoryIterators.open()) {
            MapCharge c = it.maps().get(newId);
            if (c == null || !c.charged() || c.cgroupId() != mv.targetId())
                throw new BpfchargeException(Exit.FAILED, "the replacement map " + newId + " is charged to cgroup id "
                        + (c == null ? "?" : c.cgroupId()) + ", not to " + mv.target() + " (id " + mv.targetId() + ")");
        }
    }

    private static BpfchargeException rolledBack(RuntimeException e, Plan.Move mv) {
        String why = e instanceof BpfException b && b.errno() == Errno.ENOMEM
                ? "the kernel ran out of memory for the copy in " + mv.target() + " (ENOMEM): raise its limit"
                : e instanceof BpfchargeException b ? b.getMessage() : e.getMessage();
        Exit exit = e instanceof BpfchargeException b && b.exit() == Exit.NO_ROOM ? Exit.NO_ROOM : Exit.ROLLED_BACK;
        return new BpfchargeException(exit, why + "; the replacement was freed and map " + mv.map().id()
                + " is untouched", e);
    }

    // ---- steps shared with recovery ----

    /**
     * From READY on: swap the replacement into every slot, re-pin it over every pin, reconcile, clean up.
     * Every step can run again (it checks what is already done), so a resumed run uses this same code.
     */
    private long finish(Journal j, MapFd old, MapFd neu, MapInfo info, long entries) {
        Journal.Entry e = j.entry();
        swapSlots(e, neu);
        repin(e, neu);
        if (e.phase() != Journal.Phase.SWAPPED) j.write(e.with(Journal.Phase.SWAPPED, e.newId()));
        phase("swap");
        Crash.point("swapped");
        // The outer map updates waited for running programs (the kernel's synchronize_rcu after a
        // map-of-maps update), so no program still writes the old map: it is quiescent now.
        if (old != null && e.keepPin() != null) {
            try (Baseline base = e.baseline() != null ? Baseline.open(Path.of(e.baseline()))
                    : Baseline.empty(info.keySize(), info.userValueSize())) {
                lastMerged = Reconciler.reconcile(old, neu, info, base, e.merge());
                if (e.strategy() == MigrationRequest.Strategy.SWAP_BACKFILL) entries = lastMerged;
            }
            phase("reconcile");
        }
        Crash.point("reconciled");
        for (String p : new String[]{e.baseline(), e.keepPin(), e.tempPin()}) delete(p);
        j.finish();
        return entries;
    }

    private static void swapSlots(Journal.Entry e, MapFd neu) {
        boolean first = true;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment val = arena.allocate(ValueLayout.JAVA_INT);
            for (MapRecord.Slot s : e.slots()) {
                MemorySegment key = arena.allocateFrom(ValueLayout.JAVA_BYTE, HexFormat.of().parseHex(s.key()));
                try (MapFd outer = MapFd.byId(s.outerId())) {
                    // Only a slot still holding the old map: one the owner changed meanwhile is theirs.
                    if (!outer.lookup(key, val) || val.get(ValueLayout.JAVA_INT, 0) != e.oldId()) continue;
                    val.set(ValueLayout.JAVA_INT, 0, neu.fd());
                    outer.update(key, val, MapFd.BPF_ANY); // fd arrays take nothing else
                } catch (BpfException ex) {
                    if (ex.errno() != Errno.ENOENT) throw ex; // outer map or slot gone
                }
                if (first) Crash.point("swap");
                first = false;
            }
        }
    }

    private static void repin(Journal.Entry e, MapFd neu) {
        for (int i = 0; i < e.pins().size(); i++) {
            Path pin = Path.of(e.pins().get(i));
            try (BpfFd cur = BpfFd.openPin(pin)) {
                if (!(cur instanceof MapFd m) || m.info().id() != e.oldId()) continue; // done, or replaced by its owner
            } catch (BpfException ex) {
                if (ex.errno() != Errno.ENOENT) throw ex;
                continue; // unpinned by its owner meanwhile
            }
            Path tmp = e.repinTemp(i);
            delete(tmp.toString());
            neu.pin(tmp);
            try {
                Files.move(tmp, pin, StandardCopyOption.ATOMIC_MOVE); // rename(2): replaces the old pin atomically
            } catch (IOException ex) {
                throw new UncheckedIOException("cannot rename " + tmp + " over " + pin + ": " + ex.getMessage(), ex);
            }
            Crash.point("swap");
        }
    }

    /** Undoes a migration that did not reach READY: nothing but temporary names was created. */
    private static void rollback(Journal.Entry e) {
        for (int i = 0; i < e.pins().size(); i++) delete(e.repinTemp(i).toString());
        for (String p : new String[]{e.tempPin(), e.keepPin(), e.baseline()}) delete(p);
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
        if (!awaitFreed(id, deadline)) return false;
        if (charge < UNCHARGE_VISIBLE || source.equals(Plan.ROOT) || before == null || before.isEmpty()) return true;
        while (System.nanoTime() < deadline) {
            OptionalLong now = h.usage(source);
            if (now.isEmpty() || now.getAsLong() <= before.getAsLong() - charge / 2) return true;
            try {
                Thread.sleep(5);
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return false;
    }

    /** Below this, freeing a map may not move a memcg's usage at all (per-CPU charge caches of 64 pages). */
    private static final long UNCHARGE_VISIBLE = 4L << 20;

    private static boolean awaitFreed(int id) {
        return awaitFreed(id, System.nanoTime() + RELEASE_WAIT.toNanos());
    }

    private static boolean awaitFreed(int id, long deadline) {
        while (System.nanoTime() < deadline) {
            try (MapFd ignored = MapFd.byId(id)) {
                Thread.sleep(5);
            } catch (BpfException ex) {
                if (ex.errno() == Errno.ENOENT) return true;
                throw ex;
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return false;
    }

    // ---- recovery ----

    /**
     * Finishes or undoes every interrupted migration in the run directory (journals whose process died), as each
     * migration does first; a daemon calls it on its own so that a migration cut short converges even when the
     * map needs no further migration. One line per journal.
     */
    public List<String> recover() {
        Checks.requireAll();
        List<String> recovered = new ArrayList<>();
        recoverAll(MemoryHierarchy.detect(), recovered);
        return recovered;
    }

    /** Finishes or undoes every orphaned journal; returns old id to new id for maps it finished. */
    private Map<Integer, Integer> recoverAll(MemoryHierarchy h, List<String> recovered) {
        Map<Integer, Integer> renamed = new HashMap<>();
        for (Journal j : Journal.orphans()) {
            Journal.Entry e = j.entry();
            if (e.phase().compareTo(Journal.Phase.READY) < 0) {
                rollback(e);
                j.finish();
                log("rolled_back", e.oldId(), 0, e.bytes(), e.source(), e.target());
                recovered.add("undid the interrupted migration of map " + e.oldId() + " (it had not been swapped)");
                continue;
            }
            MapFd neu = openNew(e);
            if (neu == null) {
                // The replacement is gone (its owner unpinned and emptied every slot, or its temporary pin
                // was removed by hand before the swap): nothing can be finished. Its original references
                // still hold the old map if it was never swapped out; drop only our temporary names.
                rollback(e);
                j.finish();
                log("failed", e.oldId(), e.newId(), e.bytes(), e.source(), e.target());
                recovered.add("dropped the interrupted migration of map " + e.oldId() + ": its replacement "
                        + e.newId() + " no longer exists");
                continue;
            }
            MapFd old = e.keepPin() != null && Files.exists(Path.of(e.keepPin()))
                    ? (MapFd) BpfFd.openPin(Path.of(e.keepPin())) : null;
            try (neu; old) {
                finish(j, old, neu, neu.info(), 0);
            }
            awaitFreed(e.oldId());
            log("ok", e.oldId(), e.newId(), e.bytes(), e.source(), e.target());
            renamed.put(e.oldId(), e.newId());
            recovered.add("finished the interrupted migration of map " + e.oldId() + " to map " + e.newId());
        }
        return renamed;
    }

    /** The replacement of an interrupted migration, or null when it no longer exists. */
    private static MapFd openNew(Journal.Entry e) {
        Path temp = Path.of(e.tempPin());
        if (Files.exists(temp)) return (MapFd) BpfFd.openPin(temp);
        try {
            return MapFd.byId(e.newId()); // only the temporary pin was removed: slots and pins hold it
        } catch (BpfException ex) {
            if (ex.errno() == Errno.ENOENT) return null;
            throw ex;
        }
    }

    private void phase(String name) {
        long now = System.nanoTime();
        phases.merge(name, Duration.ofNanos(now - mark), Duration::plus);
        mark = now;
    }

    private static void log(String result, int oldId, int newId, long bytes, String from, String to) {
        MigrationHistory.append(new MigrationEvent(Instant.now(), result, oldId, newId, bytes, from, to));
    }
}
