package io.bpfcharge.migrate;

import io.bpfcharge.BpfchargeException;
import io.bpfcharge.BpfchargeException.Exit;
import io.bpfcharge.inventory.Inventory;
import io.bpfcharge.inventory.MapRecord;
import io.bpfcharge.inventory.Snapshot;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Moves maps' memory charges to other memory cgroups: the one migration service behind the CLI, the hook and the
 * agent. Built from its collaborators (the memory hierarchy and the inventory, whose loaded iterators every step
 * uses), so that its callers share one loaded BPF object and warm scans across many migrations. Each
 * {@link #migrate} finishes or undoes interrupted migrations first ({@link Recovery}), scans, plans ({@link Plan})
 * and runs the plan ({@link MigrationRun}). Requests arrive resolved ({@link Requests}) and checked
 * (preflight is the caller's). One migration at a time per instance.
 */
public final class Migrator {
    /** Copy progress, for a terminal. */
    @FunctionalInterface
    public interface Progress {
        Progress NONE = (done, total) -> {};

        void copied(long entries, long expected);
    }

    private final Inventory inventory;
    private final Progress progress;
    private final RunDir run;

    /** @param run the node's migration directory, shared with every other bpfcharge process (and where the map-creating helper is kept) */
    public Migrator(Inventory inventory, Progress progress, RunDir run) {
        this.inventory = inventory;
        this.progress = progress;
        this.run = run;
    }

    public Migrator(Inventory inventory, RunDir run) { this(inventory, Progress.NONE, run); }

    public synchronized MigrationResult migrate(MigrationRequest req) {
        var h = inventory.hierarchy();
        Map<String, Duration> phases = new LinkedHashMap<>();
        long t0 = System.nanoTime();
        Recovery recovery = Recovery.run(h, inventory.iterators(), run);
        long t1 = System.nanoTime();
        phases.put("recover", Duration.ofNanos(t1 - t0));
        try {
            return migrate(req, recovery, phases, t1);
        } catch (BpfchargeException e) {
            if (recovery.lines().isEmpty()) throw e;
            // The error is the one line the user sees: it must not hide what the recovery did first.
            throw new BpfchargeException(e.exit(), e.getMessage() + " (before that: " + String.join("; ", recovery.lines()) + ")", e);
        }
    }

    private MigrationResult migrate(MigrationRequest req, Recovery recovery, Map<String, Duration> phases, long t1) {
        var h = inventory.hierarchy();
        int id = recovery.follow(req.mapId());
        requireNotMigrating(id);
        Snapshot snap = inventory.scan();
        MapRecord m = snap.map(id).orElseThrow(() -> new BpfchargeException(Exit.NOT_FOUND, "map " + id
                + " was freed meanwhile: list maps with `bpfcharge maps`"));
        // A process seen holding it may be a writer that opens the pin for each write: only one that keeps it
        // open is a holder to refuse. (Whatever opens it later is checked again after the swap.)
        if (m.programs().isEmpty() && !m.processes().isEmpty() && Quiescence.awaitNoProcess(inventory.iterators(), id))
            m = new MapRecord(m.info(), m.bytes(), m.memcg(), m.pins(), m.outer(), List.of(), m.programs());
        requireNotMigrating(id); // a run that started meanwhile holds it now: say so, not "used by process java"
        Plan plan = Plan.of(snap, m, req.target(), h.id(req.target()),
                new Plan.Room(h.headroom(req.target()), h.limit(req.target())), req);
        phases.put("plan", Duration.ofNanos(System.nanoTime() - t1));
        String source = m.memcg() == null ? Plan.ROOT : m.memcg().path();
        // A dry run changes nothing and records nothing: it is no attempt, and must not count as one.
        return switch (plan) {
            case Plan.Noop n -> {
                if (!req.dryRun()) MigrationHistory.record(run, Result.UNCHANGED, m.id(), 0, 0, source, req.target());
                yield new MigrationResult(Result.UNCHANGED, n, 0, MigrationResult.Settled.NONE, phases,
                        MigrationResult.Usage.NONE, false, recovery.lines());
            }
            case Plan.Refused r -> {
                if (!req.dryRun()) MigrationHistory.record(run, Result.REFUSED, m.id(), 0, 0, source, req.target());
                throw new BpfchargeException(r.exit(), r.message());
            }
            case Plan.Move mv when req.dryRun() -> new MigrationResult(Result.DRY_RUN, mv, 0,
                    MigrationResult.Settled.NONE, phases, MigrationResult.Usage.NONE, false, recovery.lines());
            case Plan.Move mv -> {
                MigrationRun attempt = new MigrationRun(h, inventory.iterators(), progress, run);
                attempt.phases().putAll(phases);
                yield attempt.execute(mv, recovery.lines());
            }
        };
    }

    /**
     * Finishes or undoes every interrupted migration in the run directory (journals whose process died), as each
     * migration does first; a daemon calls it on its own so that a migration cut short converges even when the
     * map needs no further migration. One line per journal.
     */
    public synchronized List<String> recover() {
        if (!Journal.any(run)) return List.of(); // the usual case
        return Recovery.run(inventory.hierarchy(), inventory.iterators(), run).lines();
    }

    private void requireNotMigrating(int id) {
        for (Journal.Entry a : Journal.active(run))
            if (a.oldId() == id || a.newId() == id) throw Journal.busy(id);
    }
}
