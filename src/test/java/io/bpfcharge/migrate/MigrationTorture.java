package io.bpfcharge.migrate;

import io.bpfcharge.bpf.Cpus;
import io.bpfcharge.migrate.TortureIteration.Kind;
import io.bpfcharge.migrate.TortureIteration.Outcome;
import io.bpfcharge.migrate.TortureIteration.Problem;
import io.bpfcharge.testing.TestCgroups;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

/**
 * The torture run (bench/torture, MigrationTortureIT): randomized migrations of real maps, one per iteration,
 * each checked for lost writes, untruthful exits and leftovers ({@link TortureIteration}). Every iteration draws
 * its choice from (seed, iteration) alone, so {@code --seed S --first I --iterations 1} replays iteration I's
 * choice (not its timing). Everything it makes lives below its own memcg and in a private bpffs directory, and
 * is removed at the end, on a failure or on Ctrl-C.
 */
public final class MigrationTorture {
    /**
     * @param first the first iteration's number (a replay starts there)
     * @param load keep every allowed CPU busy with a busy loop meanwhile
     * @param keepGoing go on after a failed iteration (else the run stops at the first)
     * @param minutes start no iteration after this long (0: no limit)
     */
    record Options(long seed, int first, int iterations, boolean load, boolean keepGoing, int minutes) {
        static final String USAGE = "usage: bench/torture [--seed S] [--iterations N] [--first I] [--load] [--keep-going] [--minutes M]";

        static Options parse(String[] args) {
            long seed = new SplittableRandom().nextLong() & Long.MAX_VALUE;
            int first = 0, iterations = 100, minutes = 0;
            boolean load = false, keepGoing = false;
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--seed" -> seed = Long.parseLong(args[++i]);
                    case "--iterations" -> iterations = Integer.parseInt(args[++i]);
                    case "--first" -> first = Integer.parseInt(args[++i]);
                    case "--load" -> load = true;
                    case "--keep-going" -> keepGoing = true;
                    case "--minutes" -> minutes = Integer.parseInt(args[++i]);
                    default -> throw new IllegalArgumentException("unknown option " + args[i] + "; " + USAGE);
                }
            }
            return new Options(seed, first, iterations, load, keepGoing, minutes);
        }
    }

    /** The run's memcgs, pins, run directory and busy loops; close() is safe twice (the Ctrl-C hook and the normal end). */
    private static final class Session implements AutoCloseable {
        final TestCgroups cg = new TestCgroups();
        final String src = cg.child("src"), dst = cg.child("dst");
        final Path runDir = Files.createTempDirectory("bpfcharge-torture");
        private final AtomicBoolean closed = new AtomicBoolean();

        Session(boolean load) throws IOException {
            if (load)
                for (int n = Cpus.allowed().size(); n > 0; n--) cg.track(new ProcessBuilder("sh", "-c", "while :; do :; done").start());
        }

        @Override
        public void close() throws IOException {
            if (!closed.compareAndSet(false, true)) return;
            cg.close();
            try (Stream<Path> s = Files.walk(runDir)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
            }
        }
    }

    private MigrationTorture() {}

    /** The choice of iteration {@code i} of the run with {@code seed}: a function of the two only. */
    static TortureChoice choice(long seed, int i) {
        return TortureChoice.pick(new Random(new SplittableRandom(seed ^ (i * 0x9E3779B97F4A7C15L)).nextLong()));
    }

    /** Runs the iterations, one line each, then the tallies; returns how many iterations failed. */
    static int run(Options o, PrintStream out, boolean hookCtrlC) throws Exception {
        out.printf("torture: seed %d, iterations %d to %d%s (replay one: bench/torture --seed %d --first I --iterations 1)%n",
                o.seed(), o.first(), o.first() + o.iterations() - 1, o.load() ? ", under load" : "", o.seed());
        TortureTally tally = new TortureTally();
        try (Session s = new Session(o.load())) {
            if (hookCtrlC) Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    s.close();
                } catch (IOException e) {
                    System.err.println("torture: cleanup: " + e.getMessage());
                }
            }));
            TortureIteration iteration = new TortureIteration(s.cg, s.src, s.dst, s.runDir);
            long end = o.minutes() == 0 ? Long.MAX_VALUE : System.nanoTime() + o.minutes() * 60_000_000_000L;
            for (int i = o.first(); i < o.first() + o.iterations() && System.nanoTime() < end; i++) {
                TortureChoice c = choice(o.seed(), i);
                Outcome outcome;
                try {
                    outcome = iteration.run(i, c);
                } catch (Exception e) {
                    outcome = new Outcome(c, List.of(-1), "", false, List.of(new Problem(Kind.OTHER, "the iteration failed: " + e)), 0, 0);
                }
                tally.add(i, o.seed(), outcome);
                report(out, o.seed(), i, outcome);
                if (!outcome.problems().isEmpty() && !o.keepGoing()) break;
            }
        }
        tally.print(out);
        return tally.failures();
    }

    private static void report(PrintStream out, long seed, int i, Outcome o) {
        out.printf("[%4d] %5.1f s exits %-8s %s%s%n", i, o.millis() / 1000.0,
                String.join(",", o.exits().stream().map(String::valueOf).toList()), o.choice().describe(),
                o.problems().isEmpty() ? "" : " FAILED");
        if (!o.message().isEmpty()) out.println("       " + o.message());
        if (o.problems().isEmpty()) return;
        for (Problem p : o.problems()) out.println("       " + p.kind() + ": " + p.text());
        out.printf("       seed %d iteration %d; replay: bench/torture --seed %d --first %d --iterations 1%n", seed, i, seed, i);
    }

    public static void main(String[] args) throws Exception {
        Options o;
        try {
            o = Options.parse(args);
        } catch (RuntimeException e) {
            System.err.println("torture: " + e.getMessage());
            System.exit(2);
            return;
        }
        System.exit(run(o, System.out, true) == 0 ? 0 : 1);
    }
}
