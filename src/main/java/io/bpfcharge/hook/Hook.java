package io.bpfcharge.hook;

import io.bpfcharge.bpffs.PinPaths;
import io.bpfcharge.BpfchargeException;
import io.bpfcharge.BpfchargeException.Exit;
import io.bpfcharge.cgroup.CgroupException;
import io.bpfcharge.cgroup.MemoryHierarchy;
import io.bpfcharge.doctor.Checks;
import io.bpfcharge.inventory.Inventory;
import io.bpfcharge.inventory.MapRecord;
import io.bpfcharge.inventory.Snapshot;
import io.bpfcharge.migrate.MigrationRequest;
import io.bpfcharge.migrate.MigrationResult;
import io.bpfcharge.migrate.Migrator;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * One container start: which pins the container claims (annotation, rules), checked to lie in bpffs,
 * each map migrated into the memcg of the container's process through {@link Migrator} with
 * {@code toPid}, exactly as {@code bpfcharge migrate --to-pid} does. Fail-open: a map's failure
 * becomes its outcome; only input that names no live container throws.
 */
public final class Hook {
    private final OciState state;
    private final Rules rules;
    private final Consumer<Outcome> log;
    private final Set<Integer> seen = new HashSet<>();
    private final List<Outcome> outcomes = new ArrayList<>();
    private String target;

    private Hook(OciState state, Rules rules, Consumer<Outcome> log) {
        this.state = state;
        this.rules = rules;
        this.log = log;
    }

    /** Runs the hook; every outcome goes to {@code log} as it happens and is returned. */
    public static List<Outcome> run(OciState state, Rules rules, Consumer<Outcome> log) {
        return new Hook(state, rules, log).run();
    }

    private List<Outcome> run() {
        List<Wanted> wanted = Wanted.of(state, rules);
        if (wanted.isEmpty()) return List.of();
        Checks.requireAll();
        MemoryHierarchy h = MemoryHierarchy.detect();
        target = containerCgroup(h, state.pid());
        PinPaths paths = PinPaths.current();
        Snapshot snapshot;
        try (Inventory inv = new Inventory(h)) {
            snapshot = inv.scan();
        }
        for (Wanted w : wanted) {
            List<Path> pins;
            try {
                pins = paths.expand(w.pattern());
            } catch (BpfchargeException e) {
                emit(w, w.pattern(), null, Outcome.Result.REFUSED, null, 0, 0, e.exit(), e.getMessage());
                continue;
            }
            if (pins.isEmpty())
                emit(w, w.pattern(), null, Outcome.Result.NO_MATCH, null, 0, 0, Exit.OK, "no pin matches");
            for (Path pin : pins) migratePin(w, pin, snapshot);
        }
        return List.copyOf(outcomes);
    }

    /**
     * The container's memory cgroup, resolved once so every line names it; the Migrator resolves
     * the same pid again per map. A container whose process is gone has nothing to recharge.
     */
    static String containerCgroup(MemoryHierarchy h, long pid) {
        try {
            return h.cgroupOf(pid);
        } catch (CgroupException e) {
            throw new BpfchargeException(Exit.NOT_FOUND, "the container's process " + pid + " from the OCI state does not "
                    + "exist: run the hook at poststart, while the container runs");
        }
    }

    private void migratePin(Wanted w, Path pin, Snapshot snapshot) {
        MapRecord rec = snapshot.pinnedAt(pin.toString()).orElse(null);
        if (rec != null && rec.info().type().isMapOfMaps()) {
            // The inner maps carry the data and the charge; the inventory says which slots hold them.
            for (MapRecord inner : snapshot.maps())
                if (inner.outer().stream().anyMatch(s -> s.outerId() == rec.id()))
                    migrate(w, pin + "[inner]", "id:" + inner.id(), inner);
            if (!rec.programs().isEmpty() || !rec.processes().isEmpty()) {
                // Programs use the outer map itself; only its small slot array stays where it was made.
                emit(w, pin.toString(), rec, Outcome.Result.UNCHANGED, null, 0, 0, Exit.OK,
                        "map-of-maps in use by programs keeps its own slot array's charge; its inner maps were migrated");
                return;
            }
        }
        migrate(w, pin.toString(), pin.toString(), rec);
    }

    private void migrate(Wanted w, String label, String map, MapRecord rec) {
        if (rec != null && !seen.add(rec.id())) return; // reached twice (two patterns, or pin and slot)
        if (rec != null && rec.memcg() != null && rec.memcg().path().equals(target)) {
            // A second run of the hook: answered from this scan, without the Migrator's own scan.
            emit(w, label, rec, Outcome.Result.UNCHANGED, target, 0, 0, Exit.OK, "already charged to " + target);
            return;
        }
        long t0 = System.nanoTime();
        try {
            MigrationResult r = new Migrator().migrate(new MigrationRequest(map, null, state.pid(), null, null, false));
            boolean moved = r.result().equals("ok");
            emit(w, label, rec, moved ? Outcome.Result.MIGRATED : Outcome.Result.UNCHANGED, r.source(), r.bytes(),
                    millis(t0), Exit.OK, moved ? (r.oldFreed() ? "" : "old map not yet freed: its charge leaves when its last holder closes it")
                            : "already charged to " + r.target());
        } catch (BpfchargeException e) {
            Outcome.Result result = e.exit() == Exit.REFUSED ? Outcome.Result.REFUSED : Outcome.Result.FAILED;
            emit(w, label, rec, result, rec == null || rec.memcg() == null ? null : rec.memcg().path(), 0, millis(t0),
                    e.exit(), e.getMessage());
        } catch (RuntimeException e) {
            emit(w, label, rec, Outcome.Result.FAILED, null, 0, millis(t0), Exit.FAILED,
                    e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }

    private void emit(Wanted w, String pin, MapRecord rec, Outcome.Result result, String from, long bytes, long millis,
                      Exit exit, String message) {
        Outcome o = new Outcome(state.id(), w.source(), pin, rec == null ? 0 : rec.id(), rec == null ? "" : rec.info().name(),
                result, from, target, bytes, millis, exit, message);
        outcomes.add(o);
        log.accept(o);
    }

    private static long millis(long t0) { return (System.nanoTime() - t0) / 1_000_000; }

    /** The exit code: 0 (fail-open), or under --strict the first failure's code. */
    public static int exitCode(List<Outcome> outcomes, boolean strict) {
        if (!strict) return Exit.OK.code;
        return outcomes.stream().filter(o -> o.result().failure()).findFirst().map(o -> o.exit().code).orElse(Exit.OK.code);
    }
}
