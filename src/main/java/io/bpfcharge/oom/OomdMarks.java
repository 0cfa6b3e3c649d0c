package io.bpfcharge.oom;

import io.bpfcharge.bpf.BpfException;
import io.bpfcharge.bpf.Xattrs;
import io.bpfcharge.cgroup.MemoryHierarchy;
import io.bpfcharge.inventory.Snapshot;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.function.Consumer;

/**
 * {@code serve --oomd-avoid CGROUP}: after every scan, marks with {@code trusted.oomd_avoid} exactly the leaves
 * below CGROUP that oomd's kill_by_memory_size_or_growth ranks above the cgroup whose kill frees the most (the
 * {@link Policy#OOMD} ranking's net victim), so that oomd's first candidate is that one. oomd 0.5.0 has no way to
 * take bytes off a cgroup's figure (adjust_cgroup went in 0.4.0); its kill preference xattrs are what it reads.
 *
 * <p>A mark of its own carries {@link #OWNER} beside it: only those are ever removed (on change, on restart, on
 * close), so a mark someone else set (systemd's ManagedOOMPreference=avoid) is never touched. Writes happen only
 * when a mark changes. A failed write is reported once until writes work again, and never stops the scan.
 */
public final class OomdMarks implements Consumer<Snapshot>, AutoCloseable {
    /** What oomd reads (systemd-oomd reads only user.oomd_avoid): the cgroup is killed only when no unmarked one is left. */
    static final String AVOID = "trusted.oomd_avoid";
    /** Says the avoid mark beside it is bpfcharge's. */
    static final String OWNER = "trusted.bpfcharge_oomd_avoid";

    private final MemoryHierarchy h;
    private final String under;
    private final PrintStream log;
    private String lastError;
    private boolean closed;

    public OomdMarks(MemoryHierarchy h, String under, PrintStream log) {
        this.h = h;
        this.under = under;
        this.log = log;
    }

    /** The leaves oomd ranks above the net victim: none when it already picks it, or when nothing is a candidate. */
    static Set<String> toAvoid(Ranking r) {
        int net = r.adjustedVictim().map(Ranking.Row::rank).orElse(0);
        Set<String> out = new HashSet<>();
        for (Ranking.Row row : r.rows()) if (row.rank() > 0 && row.rank() < net) out.add(row.leaf().path());
        return out;
    }

    @Override
    public synchronized void accept(Snapshot s) {
        if (closed) return; // a scan that was still running when serve stopped marks nothing
        try {
            reconcile(toAvoid(Ranking.of(Policy.OOMD, Leaves.read(h, under, s), Leaves.totalMemory())));
            lastError = null;
        } catch (RuntimeException e) {
            if (!String.valueOf(e.getMessage()).equals(lastError)) log.println("bpfcharge: oomd marks: " + e.getMessage());
            lastError = String.valueOf(e.getMessage());
        }
    }

    /** Every leaf below CGROUP ends with bpfcharge's mark exactly when it is in {@code avoid}. */
    private void reconcile(Set<String> avoid) {
        for (String leaf : h.leaves(under)) {
            Path dir = h.dir(leaf);
            try {
                boolean ours = Xattrs.has(dir, OWNER), want = avoid.contains(leaf);
                if (want && !Xattrs.has(dir, AVOID)) {
                    Xattrs.set(dir, OWNER, "1"); // first: a mark found without it is someone else's
                    Xattrs.set(dir, AVOID, "1");
                    log.println("bpfcharge: oomd: avoid " + leaf + " (a kill there frees less than one of a smaller cgroup)");
                } else if (!want && ours) {
                    unmark(dir);
                    log.println("bpfcharge: oomd: no longer avoid " + leaf);
                }
            } catch (BpfException e) {
                if (!e.notFound()) throw e; // removed since listed
            }
        }
    }

    private static void unmark(Path dir) {
        Xattrs.remove(dir, AVOID);
        Xattrs.remove(dir, OWNER);
    }

    /** Removes every mark of its own: with bpfcharge gone, nothing keeps them true. */
    @Override
    public synchronized void close() {
        closed = true;
        for (String leaf : h.leaves(under)) {
            Path dir = h.dir(leaf);
            try {
                if (Xattrs.has(dir, OWNER)) unmark(dir);
            } catch (BpfException e) {
                // removed, or not ours to change: the rest still get unmarked
            }
        }
    }
}
