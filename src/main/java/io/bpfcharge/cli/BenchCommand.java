package io.bpfcharge.cli;

import io.bpfcharge.cgroup.MemoryHierarchy;
import io.bpfcharge.doctor.Checks;
import io.bpfcharge.inventory.Inventory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.util.Arrays;
import java.util.Locale;

/** Times warm in-process scans for bench/scan-bench: one Inventory, warm-up scans, then timed ones. */
@Command(name = "bench", hidden = true, description = "Benchmarks (see bench/ and the README).",
        subcommands = BenchCommand.ScanBench.class)
final class BenchCommand {

    @Command(name = "scan", description = "Times Inventory.scan() in this process after warm-up; prints median, min and max.")
    static final class ScanBench implements java.util.concurrent.Callable<Integer> {
        @Spec CommandSpec spec;

        @Option(names = "--runs", defaultValue = "20", description = "Timed scans (default ${DEFAULT-VALUE}).")
        int runs;

        @Option(names = "--warmup", defaultValue = "10", description = "Scans before timing, to let the JIT compile the scan (default ${DEFAULT-VALUE}).")
        int warmup;

        @Override
        public Integer call() {
            if (runs < 1 || warmup < 0)
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--runs must be >= 1 and --warmup >= 0");
            Checks.requireAll();
            long[] ns = new long[runs];
            int maps = 0;
            try (Inventory inv = new Inventory(MemoryHierarchy.detect())) {
                for (int i = 0; i < warmup; i++) inv.scan();
                for (int i = 0; i < runs; i++) {
                    long t0 = System.nanoTime();
                    maps = inv.scan().maps().size();
                    ns[i] = System.nanoTime() - t0;
                }
            }
            Arrays.sort(ns);
            long median = runs % 2 == 1 ? ns[runs / 2] : (ns[runs / 2 - 1] + ns[runs / 2]) / 2;
            spec.commandLine().getOut().printf(Locale.ROOT, "maps=%d runs=%d median_ms=%.1f min_ms=%.1f max_ms=%.1f%n",
                    maps, runs, median / 1e6, ns[0] / 1e6, ns[runs - 1] / 1e6);
            spec.commandLine().getOut().flush();
            return 0;
        }
    }
}
