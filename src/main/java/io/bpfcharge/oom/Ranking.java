package io.bpfcharge.oom;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Leaf cgroups ranked by a policy's figure as it reads it, and by the same figure less the BPF bytes that
 * survive a kill, with the victim of each.
 */
public record Ranking(Policy policy, List<Row> rows) {
    /**
     * @param figure what the policy ranks by; null when it never picks this cgroup (no process, oom_score_adj -1000)
     * @param adjusted the figure with the surviving BPF bytes taken off the memory it counts
     * @param rank 1 = the victim; 0 when not a candidate
     */
    public record Row(Leaf leaf, Long figure, Long adjusted, int rank, int adjustedRank) {
        public boolean victim() { return rank == 1; }

        public boolean adjustedVictim() { return adjustedRank == 1; }
    }

    /** Ranks every leaf; rows in the policy's own order, non-candidates last by path. */
    public static Ranking of(Policy policy, List<Leaf> leaves, long totalMemory) {
        List<Row> rows = new ArrayList<>(leaves.size());
        for (Leaf l : leaves)
            rows.add(new Row(l, policy.figure(l, l.usage(), totalMemory),
                    policy.figure(l, Math.max(0, l.usage() - l.survivingKillBytes()), totalMemory), 0, 0));
        List<Row> byFigure = ranked(rows, Row::figure), byAdjusted = ranked(rows, Row::adjusted);
        List<Row> out = new ArrayList<>(rows.size());
        for (Row r : rows)
            out.add(new Row(r.leaf(), r.figure(), r.adjusted(), byFigure.indexOf(r) + 1, byAdjusted.indexOf(r) + 1));
        out.sort(Comparator.comparingInt((Row r) -> r.rank() == 0 ? Integer.MAX_VALUE : r.rank())
                .thenComparing(r -> r.leaf().path()));
        return new Ranking(policy, List.copyOf(out));
    }

    /** Candidates largest first; ties by path, so a rank is the same on every run. */
    private static List<Row> ranked(List<Row> rows, java.util.function.Function<Row, Long> by) {
        return rows.stream().filter(r -> by.apply(r) != null)
                .sorted(Comparator.comparing(by, Comparator.reverseOrder()).thenComparing(r -> r.leaf().path())).toList();
    }

    public Optional<Row> victim() { return rows.stream().filter(Row::victim).findFirst(); }

    public Optional<Row> adjustedVictim() { return rows.stream().filter(Row::adjustedVictim).findFirst(); }

    /** The policy would kill another cgroup if it knew which BPF bytes a kill leaves behind. */
    public boolean victimChanges() {
        return !victim().map(r -> r.leaf().path()).equals(adjustedVictim().map(r -> r.leaf().path()));
    }
}
