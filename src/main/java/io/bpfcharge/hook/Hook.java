package io.bpfcharge.hook;

import io.bpfcharge.migrate.Result;
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
import io.bpfcharge.oom.Reserve;
import io.bpfcharge.migrate.MigrationResult;
import io.bpfcharge.migrate.Migrator;
import io.bpfcharge.migrate.RunDir;
import io.bpfcharge.migrate.Requests;

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
 * becomes its outcome; only input that names no live container throws. The decision
 * ({@link #claims}) and the migration of one claim ({@link #migrate}) are also the node agent's.
 */
public final class Hook {
    private Hook() {}

    /** The container's memory cgroup: its path for the log, its id to compare (a restart may reuse the path). */
    public record Target(String path, long id) {}

    /** Runs the hook; every outcome goes to {@code log} as it happens and is returned. */
    public static List<Outcome> run(OciState state, Rules rules, Reserve reserve, RunDir run, Consumer<Outcome> log) {
        List<Wanted> wanted = Wanted.of(state, rules);
        if (wanted.isEmpty()) return List.of();
        Checks.requireAll();
        MemoryHierarchy h = MemoryHierarchy.detect();
        Target target = containerCgroup(h, state.pid());
        // One inventory (one loaded iterator object) for the claims' scan and every migration after it.
        try (Inventory inv = new Inventory(h)) {
            Snapshot snapshot = inv.scan();
            Migrator migrator = new Migrator(inv, run);
            List<Outcome> outcomes = new ArrayList<>();
            for (Claim c : claims(state, rules, wanted, target, PinPaths.current(), snapshot)) {
                Outcome o = switch (c) {
                    case Claim.Settled s -> s.outcome();
                    case Claim.Move m -> migrate(migrator, state, target.path(), m, reserve);
                };
                outcomes.add(o);
                log.accept(o);
            }
            return List.copyOf(outcomes);
        }
    }

    /**
     * The container's memory cgroup, resolved once: every line names it and every map goes there. A container
     * whose process is gone has nothing to recharge.
     */
    public static Target containerCgroup(MemoryHierarchy h, long pid) {
        try {
            String path = h.cgroupOf(pid);
            return new Target(path, h.id(path));
        } catch (CgroupException e) {
            throw new BpfchargeException(Exit.NOT_FOUND, "the container's process " + pid + " from the OCI state does not "
                    + "exist: run the hook at createRuntime (or prestart), while the container's process exists");
        }
    }

    /** What the container's claims come to against {@code snapshot}, in log order; nothing is changed. */
    public static List<Claim> claims(OciState state, Rules rules, Target target, Snapshot snapshot) {
        List<Wanted> wanted = Wanted.of(state, rules);
        return wanted.isEmpty() ? List.of() : claims(state, rules, wanted, target, PinPaths.current(), snapshot);
    }

    private static List<Claim> claims(OciState state, Rules rules, List<Wanted> wanted, Target target, PinPaths paths,
                                      Snapshot snapshot) {
        List<Claim> out = new ArrayList<>();
        Set<Integer> seen = new HashSet<>();
        AnnotationScope scope = AnnotationScope.of(rules, state);
        for (Wanted w : wanted) {
            List<Path> pins;
            try {
                pins = paths.expand(w.pattern());
            } catch (BpfchargeException e) {
                out.add(settled(state, target, w, w.pattern(), null, Result.REFUSED, null, e.exit(), e.getMessage()));
                continue;
            }
            // A pattern reaching one pin the annotation may not claim is refused whole, as an unsafe path is.
            String refusal = w.annotation() ? pins.stream().map(scope::pinRefusal).filter(r -> r != null).findFirst()
                    .orElse(null) : null;
            if (refusal != null) {
                out.add(settled(state, target, w, w.pattern(), null, Result.REFUSED, null, Exit.REFUSED, refusal));
                continue;
            }
            if (pins.isEmpty())
                out.add(settled(state, target, w, w.pattern(), null, Result.NO_MATCH, null, Exit.OK, "no pin matches"));
            for (Path pin : pins) claimPin(state, target, w, scope, pin, snapshot, seen, out);
        }
        return out;
    }

    private static void claimPin(OciState state, Target target, Wanted w, AnnotationScope scope, Path pin, Snapshot snapshot,
                                 Set<Integer> seen, List<Claim> out) {
        MapRecord rec = snapshot.pinnedAt(pin.toString()).orElse(null);
        if (rec != null && rec.info().type().isMapOfMaps()) {
            // The inner maps carry the data and the charge; the inventory says which slots hold them.
            for (MapRecord inner : snapshot.maps())
                if (inner.outer().stream().anyMatch(s -> s.outerId() == rec.id()))
                    claimMap(state, target, w, scope, pin + "[inner]", inner, seen, out);
            if (!rec.programs().isEmpty() || !rec.processes().isEmpty()) {
                // Programs use the outer map itself; only its small slot array stays where it was made.
                if (seen.add(rec.id()))
                    out.add(settled(state, target, w, pin.toString(), rec, Result.UNCHANGED, null, Exit.OK,
                            "map-of-maps in use by programs keeps its own slot array's charge; its inner maps were migrated"));
                return;
            }
        }
        claimMap(state, target, w, scope, pin.toString(), rec, seen, out);
    }

    /**
     * One map: left alone when already charged to the container's memcg, refused when the annotation may not take
     * it, else migrated. The Migrator is asked for the map this scan saw and checked (id:N), not for whatever the
     * pin holds by then; a pin made after the scan is asked for by its path.
     */
    private static void claimMap(OciState state, Target target, Wanted w, AnnotationScope scope, String label,
                                 MapRecord rec, Set<Integer> seen, List<Claim> out) {
        if (rec != null && !seen.add(rec.id())) return; // reached twice (two patterns, or pin and slot)
        String refusal = w.annotation() ? scope.mapRefusal(rec, target) : null;
        if (alreadyThere(rec, target))
            // A second run of the hook: answered from this scan, without the Migrator's own scan.
            out.add(settled(state, target, w, label, rec, Result.UNCHANGED, target.path(), Exit.OK,
                    "already charged to " + target.path()));
        else if (refusal != null)
            out.add(settled(state, target, w, label, rec, Result.REFUSED, rec == null || rec.memcg() == null ? null
                    : rec.memcg().path(), Exit.REFUSED, refusal));
        else out.add(new Claim.Move(w.source(), label, rec == null ? label : "id:" + rec.id(), rec));
    }

    /** Charged to the container's memcg: the same cgroup id (a restart may make a new cgroup at the same path). */
    static boolean alreadyThere(MapRecord rec, Target target) {
        return rec != null && rec.memcg() != null && rec.memcg().id() == target.id();
    }

    /**
     * Migrates one claimed map into {@code target} (the memcg of the container's process); never throws.
     * @param reserve the share of the target's limit a move must leave its processes (docs/migration.md)
     */
    public static Outcome migrate(Migrator migrator, OciState state, String target, Claim.Move m, Reserve reserve) {
        MapRecord rec = m.map();
        long t0 = System.nanoTime();
        try {
            int id = rec != null ? rec.id() : Requests.mapId(m.spec()); // a pin the scan did not see as a map says why
            MigrationResult r = migrator.migrate(new MigrationRequest(id, target, null, null, false, reserve));
            boolean moved = r.result() == Result.MIGRATED;
            // The map the Migrator moved: the scan's, unless an interrupted migration it finished first replaced it.
            return outcome(state, target, m.source(), m.pin(), r.plan().map(), moved ? Result.MIGRATED : Result.UNCHANGED,
                    r.source(), r.bytes(), millis(t0), Exit.OK, moved ? (r.oldFreed() ? "" : "old map not yet freed: its charge "
                            + "leaves when its last holder closes it") : "already charged to " + r.target());
        } catch (RuntimeException e) {
            BpfchargeException b = BpfchargeException.of(e); // the CLI's translation: the same exit codes and messages
            Result result = b.exit() == Exit.REFUSED ? Result.REFUSED : Result.FAILED;
            return outcome(state, target, m.source(), m.pin(), rec, result, rec == null || rec.memcg() == null ? null
                    : rec.memcg().path(), 0, millis(t0), b.exit(), b.getMessage());
        }
    }

    private static Claim settled(OciState state, Target target, Wanted w, String pin, MapRecord rec, Result result,
                                 String from, Exit exit, String message) {
        return new Claim.Settled(outcome(state, target.path(), w.source(), pin, rec, result, from, 0, 0, exit, message));
    }

    private static Outcome outcome(OciState state, String target, String source, String pin, MapRecord rec,
                                   Result result, String from, long bytes, long millis, Exit exit, String message) {
        return new Outcome(state.id(), source, pin, rec == null ? 0 : rec.id(), rec == null ? "" : rec.info().name(),
                result, from, target, bytes, millis, exit, message);
    }

    private static long millis(long t0) { return (System.nanoTime() - t0) / 1_000_000; }

    /** The exit code: 0 (fail-open), or under --strict the first failure's code. */
    public static int exitCode(List<Outcome> outcomes, boolean strict) {
        if (!strict) return Exit.OK.code;
        return outcomes.stream().filter(o -> o.result().failure()).findFirst().map(o -> o.exit().code).orElse(Exit.OK.code);
    }
}
