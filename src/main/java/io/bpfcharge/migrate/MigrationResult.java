package io.bpfcharge.migrate;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * What one migration did (or, for a dry run, would do).
 * @param result {@link Result#MIGRATED}, {@link Result#UNCHANGED} or {@link Result#DRY_RUN}: failures are exceptions
 * @param plan the plan it followed: {@link Plan.Noop} for {@link Result#UNCHANGED}, else {@link Plan.Move}
 * @param newId the replacement's id; 0 when none was made
 * @param settled entries in the replacement and keys reconciled; {@link Settled#NONE} when nothing moved
 * @param phases wall time per step of this migration, in order
 * @param oldFreed the old map was freed (and its memcg uncharged) within the wait
 * @param recovered one line per interrupted migration this run finished or undid first
 */
public record MigrationResult(Result result, Plan plan, int newId, Settled settled, Map<String, Duration> phases,
                              Usage usage, boolean oldFreed, List<String> recovered) {
    /** Entries in the replacement (copied, or backfilled) and keys whose writes during the migration were carried over. */
    public record Settled(long entries, long mergedKeys) {
        public static final Settled NONE = new Settled(0, 0);
    }

    /** The memory cgroups' usage around the migration; empty where unknown or not read. */
    public record Usage(OptionalLong sourceBefore, OptionalLong sourceAfter, OptionalLong targetBefore,
                        OptionalLong targetAfter) {
        public static final Usage NONE = new Usage(OptionalLong.empty(), OptionalLong.empty(), OptionalLong.empty(),
                OptionalLong.empty());
    }

    /** Below this, freeing a map may not move a memcg's usage at all (per-CPU charge caches of 64 pages). */
    static final long UNCHARGE_VISIBLE = 4L << 20;

    /**
     * The old map is not freed, or its source memcg has not yet given back what the map cost it: the kernel
     * uncharges a freed map's memory over a while (RCU, per-CPU caches), so a usage read at the end can be
     * half-way. What the map cost is what its twin added to the target, at most its memlock (which overstates
     * per-CPU maps); usage tells it only to within {@link #UNCHARGE_VISIBLE}.
     */
    public boolean sourceStillReleasing() {
        if (!oldFreed) return true;
        if (usage.sourceBefore().isEmpty() || usage.sourceAfter().isEmpty() || usage.targetBefore().isEmpty()
                || usage.targetAfter().isEmpty()) return false;
        long charge = Math.min(usage.targetAfter().getAsLong() - usage.targetBefore().getAsLong(), bytes());
        return usage.sourceAfter().getAsLong() > usage.sourceBefore().getAsLong() - charge + UNCHARGE_VISIBLE;
    }

    public int oldId() { return plan.map().id(); }

    public long bytes() { return plan.map().bytes(); }

    /** The memcg charged before ("/" when none). */
    public String source() {
        return plan instanceof Plan.Move m ? m.source() : plan.map().memcg() == null ? Plan.ROOT : plan.map().memcg().path();
    }

    public String target() {
        return switch (plan) {
            case Plan.Move m -> m.target();
            case Plan.Noop n -> n.target();
            case Plan.Refused r -> throw new IllegalStateException("a refused plan has no result");
        };
    }
}
