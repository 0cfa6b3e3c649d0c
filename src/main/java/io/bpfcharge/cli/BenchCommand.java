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

/**
 * Times in-process scans for bench/scan-bench: repeated scans of one Inventory after warm-up (what the
 * daemon does), then the first scan of new Inventories (nothing remembered yet).
 */
@Command(name = "bench", hidden = true, description = "Benchmarks (see bench/ and docs/benchmarks.md).",
        subcommands = BenchCommand.ScanBench.class)
final class BenchCommand {

    @Command(name = "scan", description = "Times Inventory.scan() in this process: repeated scans after warm-up, then first scans of new inventories; prints median, min and max of each.")
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
            long[] warm = new long[runs], first = new long[runs];
            int maps = 0;
            MemoryHierarchy h = MemoryHierarchy.detect();
            try (Inventory inv = new Inventory(h)) {
                for (int i = 0; i < warmup; i++) inv.scan();
                for (int i = 0; i < runs; i++) {
                    long t0 = System.nanoTime();
                    maps = inv.scan().maps().size();
                    warm[i] = System.nanoTime() - t0;
                }
            }
            // The first scan of a new Inventory (JIT warm, nothing remembered): every pin and map opened.
            for (int i = 0; i < runs; i++) {
                try (Inventory inv = new Inventory(h)) {
                    long t0 = System.nanoTime();
                    inv.scan();
                    first[i] = System.nanoTime() - t0;
                }
            }
            print("warm", maps, warm);
            print("first", maps, first);
            return 0;
        }

        private void print(String kind, int maps, long[] ns) {
            Arrays.sort(ns);
            long median = ns.length % 2 == 1 ? ns[ns.length / 2] : (ns[ns.length / 2 - 1] + ns[ns.length / 2]) / 2;
            spec.commandLine().getOut().printf(Locale.ROOT, "%s maps=%d runs=%d median_ms=%.1f min_ms=%.1f max_ms=%.1f%n",
                    kind, maps, ns.length, median / 1e6, ns[0] / 1e6, ns[ns.length - 1] / 1e6);
            spec.commandLine().getOut().flush();
        }
    }
}
