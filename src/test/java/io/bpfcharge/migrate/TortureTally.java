package io.bpfcharge.migrate;

import io.bpfcharge.migrate.TortureChoice.Fault;
import io.bpfcharge.migrate.TortureIteration.Kind;
import io.bpfcharge.migrate.TortureIteration.Outcome;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Counts a torture run's iterations per choice and outcome, and prints them as Markdown tables (docs/benchmarks.md). */
final class TortureTally {
    /** One row: iterations, by final exit code, and those with a problem. */
    private static final class Row {
        int iterations, ok, refused, rolledBack, failed;
    }

    private final Map<String, Map<String, Row>> dimensions = new TreeMap<>();
    private final Map<Kind, Integer> problems = new EnumMap<>(Kind.class);
    private final List<String> failures = new ArrayList<>();
    private long lost, millis;
    private int iterations;

    void add(int iteration, long seed, Outcome o) {
        iterations++;
        lost += o.lost();
        millis += o.millis();
        TortureChoice c = o.choice();
        count("family", c.family().name().toLowerCase(), o);
        count("strategy", c.strategy().cliName(), o);
        count("merge", c.merge().cliName(), o);
        if (c.writers().isEmpty()) count("writer", "none", o);
        c.writers().forEach(w -> count("writer", w.name().toLowerCase(), o));
        if (c.zeroKeys()) count("writer", "zero-valued keys", o);
        count("fault", c.fault() == Fault.NONE ? "none" : c.fault().name().toLowerCase().replace('_', '-')
                + (o.faultFired() ? " (struck)" : " (step not reached)"), o);
        o.problems().stream().map(TortureIteration.Problem::kind).distinct().forEach(k -> problems.merge(k, 1, Integer::sum));
        if (!o.problems().isEmpty()) failures.add("seed " + seed + " iteration " + iteration + ": " + c.describe());
    }

    private void count(String dimension, String value, Outcome o) {
        Row r = dimensions.computeIfAbsent(dimension, d -> new TreeMap<>()).computeIfAbsent(value, v -> new Row());
        r.iterations++;
        switch (o.finalExit()) {
            case 0 -> r.ok++;
            case 6 -> r.refused++;
            case 8 -> r.rolledBack++;
            default -> { /* counted as failed below */ }
        }
        if (!o.problems().isEmpty()) r.failed++;
    }

    int failures() { return failures.size(); }

    void print(PrintStream out) {
        out.println();
        out.println("| choice | iterations | exit 0 | exit 6 (refused) | exit 8 (rolled back) | failed |");
        out.println("|---|---:|---:|---:|---:|---:|");
        dimensions.forEach((d, values) -> values.forEach((v, r) ->
                out.printf("| %s: %s | %d | %d | %d | %d | %d |%n", d, v, r.iterations, r.ok, r.refused, r.rolledBack, r.failed)));
        out.println();
        out.printf("iterations %d, wall time %d s (%.1f s per iteration); lost entries or increments %d; "
                        + "iterations with: lost writes %d, an untruthful exit %d, leftover pins, journals or maps %d, other problems %d%n",
                iterations, millis / 1000, iterations == 0 ? 0 : millis / 1000.0 / iterations, lost,
                problems.getOrDefault(Kind.LOST, 0), problems.getOrDefault(Kind.UNTRUTHFUL, 0),
                problems.getOrDefault(Kind.LEFTOVER, 0), problems.getOrDefault(Kind.OTHER, 0));
        failures.forEach(f -> out.println("FAILED " + f));
    }
}
