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

    /** Runs the hook; every outcome goes to {@code log} as it happens and is returned. */
    public static List<Outcome> run(OciState state, Rules rules, Consumer<Outcome> log) {
        List<Wanted> wanted = Wanted.of(state, rules);
        if (wanted.isEmpty()) return List.of();
        Checks.requireAll();
        MemoryHierarchy h = MemoryHierarchy.detect();
        String target = containerCgroup(h, state.pid());
        // One inventory (one loaded iterator object) for the claims' scan and every migration after it.
        try (Inventory inv = new Inventory(h)) {
            Snapshot snapshot = inv.scan();
            Migrator migrator = new Migrator(inv);
            List<Outcome> outcomes = new ArrayList<>();
            for (Claim c : claims(state, wanted, target, PinPaths.current(), snapshot)) {
                Outcome o = switch (c) {
                    case Claim.Settled s -> s.outcome();
                    case Claim.Move m -> migrate(migrator, state, target, m);
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
    public static String containerCgroup(MemoryHierarchy h, long pid) {
        try {
            return h.cgroupOf(pid);
        } catch (CgroupException e) {
            throw new BpfchargeException(Exit.NOT_FOUND, "the container's process " + pid + " from the OCI state does not "
                    + "exist: run the hook at createRuntime (or prestart), while the container's process exists");
        }
    }

    /** What the container's claims come to against {@code snapshot}, in log order; nothing is changed. */
    public static List<Claim> claims(OciState state, Rules rules, String target, Snapshot snapshot) {
        List<Wanted> wanted = Wanted.of(state, rules);
        return wanted.isEmpty() ? List.of() : claims(state, wanted, target, PinPaths.current(), snapshot);
    }

    private static List<Claim> claims(OciState state, List<Wanted> wanted, String target, PinPaths paths, Snapshot snapshot) {
        List<Claim> out = new ArrayList<>();
        Set<Integer> seen = new HashSet<>();
        for (Wanted w : wanted) {
            List<Path> pins;
            try {
                pins = paths.expand(w.pattern());
            } catch (BpfchargeException e) {
                out.add(settled(state, target, w, w.pattern(), null, Outcome.Result.REFUSED, null, e.exit(), e.getMessage()));
                continue;
            }
            if (pins.isEmpty())
                out.add(settled(state, target, w, w.pattern(), null, Outcome.Result.NO_MATCH, null, Exit.OK, "no pin matches"));
            for (Path pin : pins) claimPin(state, target, w, pin, snapshot, seen, out);
        }
        return out;
    }

    private static void claimPin(OciState state, String target, Wanted w, Path pin, Snapshot snapshot, Set<Integer> seen,
                                 List<Claim> out) {
        MapRecord rec = snapshot.pinnedAt(pin.toString()).orElse(null);
        if (rec != null && rec.info().type().isMapOfMaps()) {
            // The inner maps carry the data and the charge; the inventory says which slots hold them.
            for (MapRecord inner : snapshot.maps())
                if (inner.outer().stream().anyMatch(s -> s.outerId() == rec.id()))
                    claimMap(state, target, w, pin + "[inner]", "id:" + inner.id(), inner, seen, out);
            if (!rec.programs().isEmpty() || !rec.processes().isEmpty()) {
                // Programs use the outer map itself; only its small slot array stays where it was made.
                if (seen.add(rec.id()))
                    out.add(settled(state, target, w, pin.toString(), rec, Outcome.Result.UNCHANGED, null, Exit.OK,
                            "map-of-maps in use by programs keeps its own slot array's charge; its inner maps were migrated"));
                return;
            }
        }
        claimMap(state, target, w, pin.toString(), pin.toString(), rec, seen, out);
    }

    private static void claimMap(OciState state, String target, Wanted w, String label, String spec, MapRecord rec,
                                 Set<Integer> seen, List<Claim> out) {
        if (rec != null && !seen.add(rec.id())) return; // reached twice (two patterns, or pin and slot)
        if (rec != null && rec.memcg() != null && rec.memcg().path().equals(target))
            // A second run of the hook: answered from this scan, without the Migrator's own scan.
            out.add(settled(state, target, w, label, rec, Outcome.Result.UNCHANGED, target, Exit.OK,
                    "already charged to " + target));
        else out.add(new Claim.Move(w.source(), label, spec, rec));
    }

    /** Migrates one claimed map into {@code target} (the memcg of the container's process); never throws. */
    public static Outcome migrate(Migrator migrator, OciState state, String target, Claim.Move m) {
        MapRecord rec = m.map();
        long t0 = System.nanoTime();
        try {
            int id = rec != null ? rec.id() : Requests.mapId(m.spec()); // a pin the scan did not see as a map says why
            MigrationResult r = migrator.migrate(MigrationRequest.of(id, target));
            boolean moved = r.result() == MigrationResult.Result.OK;
            return outcome(state, target, m.source(), m.pin(), rec, moved ? Outcome.Result.MIGRATED : Outcome.Result.UNCHANGED,
                    r.source(), r.bytes(), millis(t0), Exit.OK, moved ? (r.oldFreed() ? "" : "old map not yet freed: its charge "
                            + "leaves when its last holder closes it") : "already charged to " + r.target());
        } catch (RuntimeException e) {
            BpfchargeException b = BpfchargeException.of(e); // the CLI's translation: the same exit codes and messages
            Outcome.Result result = b.exit() == Exit.REFUSED ? Outcome.Result.REFUSED : Outcome.Result.FAILED;
            return outcome(state, target, m.source(), m.pin(), rec, result, rec == null || rec.memcg() == null ? null
                    : rec.memcg().path(), 0, millis(t0), b.exit(), b.getMessage());
        }
    }

    private static Claim settled(OciState state, String target, Wanted w, String pin, MapRecord rec, Outcome.Result result,
                                 String from, Exit exit, String message) {
        return new Claim.Settled(outcome(state, target, w.source(), pin, rec, result, from, 0, 0, exit, message));
    }

    private static Outcome outcome(OciState state, String target, String source, String pin, MapRecord rec,
                                   Outcome.Result result, String from, long bytes, long millis, Exit exit, String message) {
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
